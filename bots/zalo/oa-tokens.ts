import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Schema, type Connection, type Model, type Types } from "mongoose";
import type { Clock } from "../../src/clock.js";
import type { Claims } from "../../src/db/claims.js";
import { isDuplicateKeyError } from "../../src/db/errors.js";
import type { Logger } from "../../src/log.js";
import { resealField } from "../../src/privacy/reseal.js";
import type { Sealer } from "../../src/privacy/sealer.js";
import type { TokenPair } from "./oa-api.js";
import { OaTokenUnavailable } from "./send-errors.js";

/**
 * The OA access token, kept alive across restarts and across instances.
 *
 * Zalo's refresh token can be used once: the refresh that uses it gets a new pair, and the old
 * refresh token is dead. So the pairs are stored as numbered generations, one document each,
 * under a unique (appId, generation) index: generation n+1 exists only if its pair was stored,
 * and it is stored before anything uses it. Only one process may spend generation n's refresh
 * token: it must first take the claim `zalo-oa:refresh:<app>:<n>:<attempt>`, a unique key (see
 * src/db/claims.ts — FerretDB does not make findOneAndUpdate atomic across connections, unique
 * indexes it does enforce). A failed attempt bumps the attempt number after a backoff, so the
 * next try takes a fresh claim; an attempt whose process vanished is given up after `leaseMs`,
 * far longer than one refresh can take (its HTTP deadline is 20 s).
 *
 * The refresh token in the configuration seeds the chain once: it is remembered by its hash, so
 * a restart with the same variable does not reuse a spent token, and a new one (after the OA was
 * authorised again) starts a new generation on top.
 *
 * Both tokens are sealed with the data key (src/privacy/sealer.ts), as people's words are: whoever
 * holds a database dump must not be able to write to citizens as the OA. Pairs stored in clear
 * by an earlier version are still read, and sealed at the next start (or by `keys:rotate`).
 */
export interface OaTokenDoc {
  _id: Types.ObjectId;
  appId: string;
  generation: number;
  /** The access token, sealed. */
  accessTokenSealed?: string;
  /** The refresh token, sealed. */
  refreshTokenSealed?: string;
  /** Earlier versions kept the tokens in clear: read, then sealed and removed (sealLegacy). */
  accessToken?: string;
  refreshToken?: string;
  expiresAt: Date;
  obtainedAt: Date;
  source: "config" | "refresh";
  /**
   * Where the pair came from, unique per app: "seed:<sha-256 of the configured refresh token>" or
   * "refresh-of:<generation>". Two instances seeding the same configuration, or storing the
   * same refresh, collide here instead of writing the same refresh token twice — a duplicate
   * would let each of them spend it under a different generation's claim.
   */
  origin: string;
  /** Names the claim of the next attempt to spend this generation's refresh token. */
  refreshAttempts: number;
  /** Set by the holder of the claim while it refreshes. */
  refreshingSince?: Date;
  /** After a failure, the next attempt waits until then. */
  nextRefreshAt?: Date;
  failures: number;
  lastError?: string;
  /** When the admins were told this generation cannot be refreshed: once per failure episode. */
  alertedAt?: Date;
  /** Zalo refused the access token before its expiry (revoked). */
  invalidatedAt?: Date;
}

export const oaTokenSchema = new Schema<OaTokenDoc>(
  {
    appId: { type: String, required: true },
    generation: { type: Number, required: true },
    accessTokenSealed: { type: String },
    refreshTokenSealed: { type: String },
    accessToken: { type: String },
    refreshToken: { type: String },
    expiresAt: { type: Date, required: true },
    obtainedAt: { type: Date, required: true },
    source: { type: String, required: true },
    origin: { type: String, required: true },
    refreshAttempts: { type: Number, required: true, default: 0 },
    refreshingSince: { type: Date },
    nextRefreshAt: { type: Date },
    failures: { type: Number, required: true, default: 0 },
    lastError: { type: String },
    alertedAt: { type: Date },
    invalidatedAt: { type: Date },
  },
  { collection: "zalo_oa_tokens" },
);
oaTokenSchema.index({ appId: 1, generation: 1 }, { unique: true });
oaTokenSchema.index({ appId: 1, origin: 1 }, { unique: true });

/** The token model on the connection the app gave us (bound once per connection). */
export function oaTokenModel(connection: Connection): Model<OaTokenDoc> {
  return (
    (connection.models.ZaloOaToken as Model<OaTokenDoc> | undefined) ??
    connection.model<OaTokenDoc>("ZaloOaToken", oaTokenSchema)
  );
}

/**
 * Seals the pairs an earlier version stored in clear, and reseals the others under the sealer's
 * current key (npm run keys:rotate). Returns how many tokens were (re)sealed.
 */
export async function resealOaTokens(model: Model<OaTokenDoc>, sealer: Sealer): Promise<number> {
  const sealed = await sealLegacy(model, sealer);
  return (
    sealed +
    (await resealField(model, "accessTokenSealed", sealer)) +
    (await resealField(model, "refreshTokenSealed", sealer))
  );
}

/**
 * Every token still in clear, sealed in place (how many); matched on the clear values, so a racing
 * peer's write wins.
 */
async function sealLegacy(model: Model<OaTokenDoc>, sealer: Sealer): Promise<number> {
  const legacy = await model
    .find({ $or: [{ accessToken: { $type: "string" } }, { refreshToken: { $type: "string" } }] })
    .lean();
  let changed = 0;
  for (const doc of legacy) {
    const set: Partial<OaTokenDoc> = {};
    const filter: Record<string, unknown> = { _id: doc._id };
    if (typeof doc.accessToken === "string") {
      set.accessTokenSealed = sealer.seal(doc.accessToken);
      filter.accessToken = doc.accessToken;
    }
    if (typeof doc.refreshToken === "string") {
      set.refreshTokenSealed = sealer.seal(doc.refreshToken);
      filter.refreshToken = doc.refreshToken;
    }
    const result = await model.updateOne(filter, { $set: set, $unset: { accessToken: 1, refreshToken: 1 } });
    if (result.modifiedCount > 0) changed += Object.keys(set).length;
  }
  return changed;
}

export interface OaTokensOptions {
  appId: string;
  /** What the configuration holds: the first refresh token, and maybe a current access token. */
  seed: { accessToken?: string | undefined; refreshToken: string };
  /** Spends a refresh token (ZaloOaApi.refreshAccessToken with the app's secret key). */
  refresh: (refreshToken: string) => Promise<TokenPair>;
  /** Told once per failure episode, i.e. once per generation that cannot be refreshed. */
  onRefreshFailed: (detail: string, episode: string) => Promise<void>;
  model: Model<OaTokenDoc>;
  /** Seals the tokens at rest (the app's data key). */
  sealer: Sealer;
  claims: Claims;
  clock: Clock;
  log: Logger;
  /** Refresh this long before the access token expires (Zalo's live about 25 h). */
  refreshMarginMs?: number;
  /** An attempt not finished after this long is assumed dead with its process. */
  leaseMs?: number;
  /** First wait after a failed refresh; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** How long a caller waits for another instance's refresh before giving up for now. */
  peerWaitMs?: number;
}

type Attempt =
  | { kind: "refreshed"; doc: OaTokenDoc }
  | { kind: "busy" }
  | { kind: "failed"; detail: string }
  | { kind: "waiting" };

const STORE_ATTEMPTS = 8;

/** How many of the newest generations are searched for an access token Zalo refused. */
const INVALIDATE_LOOKBACK = 5;

/** A pair as stored: its tokens in clear, for the insert to seal. */
type NewPair = Pick<OaTokenDoc, "source" | "origin" | "expiresAt" | "obtainedAt"> & {
  refreshToken: string;
  accessToken?: string;
};

function hashOf(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class OaTokens {
  private readonly owner = randomUUID();
  private readonly marginMs: number;
  private readonly leaseMs: number;
  private ready: Promise<void> | undefined;
  /** A pair Zalo gave us that could not be stored yet: never used until it is. */
  private unsaved: { pair: TokenPair; obtainedAt: Date; parent: number } | undefined;

  constructor(private readonly options: OaTokensOptions) {
    this.marginMs = options.refreshMarginMs ?? 60 * 60_000;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
  }

  private get model(): Model<OaTokenDoc> {
    return this.options.model;
  }

  /** Creates the collection and index, and seeds the chain from the configuration if it is new. */
  init(): Promise<void> {
    this.ready ??= this.setUp().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async setUp(): Promise<void> {
    await this.model.createCollection().catch((error: { codeName?: string; code?: number }) => {
      if (error.code !== 48 && error.codeName !== "NamespaceExists") throw error;
    });
    await this.model.createIndexes();
    await sealLegacy(this.model, this.options.sealer);
    const { seed } = this.options;
    const now = this.options.clock.now();
    await this.insertOnTop({
      source: "config",
      origin: `seed:${hashOf(seed.refreshToken)}`,
      refreshToken: seed.refreshToken,
      ...(seed.accessToken ? { accessToken: seed.accessToken } : {}),
      // Its lifetime is unknown: usable for now, refreshed at the first occasion.
      expiresAt: seed.accessToken ? new Date(now.getTime() + this.marginMs) : now,
      obtainedAt: now,
    });
  }

  /**
   * Writes a generation above the highest one, unless a document of the same origin exists
   * (then that one is returned): a seed already stored, or a pair stored by an earlier try.
   */
  private async insertOnTop(pair: NewPair): Promise<OaTokenDoc> {
    const { sealer } = this.options;
    const { refreshToken, accessToken, ...fields } = pair;
    for (let attempt = 1; ; attempt += 1) {
      const existing = await this.model.findOne({ appId: this.options.appId, origin: fields.origin }).lean();
      if (existing) return existing;
      const top = await this.top();
      try {
        const doc = await this.model.create({
          appId: this.options.appId,
          generation: (top?.generation ?? 0) + 1,
          refreshAttempts: 0,
          failures: 0,
          ...fields,
          refreshTokenSealed: sealer.seal(refreshToken),
          ...(accessToken ? { accessTokenSealed: sealer.seal(accessToken) } : {}),
        });
        return doc.toObject();
      } catch (error) {
        if (attempt >= STORE_ATTEMPTS) throw error;
        if (!isDuplicateKeyError(error)) await sleep(250 * attempt);
      }
    }
  }

  private async top(): Promise<OaTokenDoc | undefined> {
    const doc = await this.model.findOne({ appId: this.options.appId }).sort({ generation: -1 }).lean();
    return doc ?? undefined;
  }

  private async current(): Promise<OaTokenDoc> {
    await this.init();
    await this.saveUnsaved();
    const doc = await this.top();
    if (!doc) throw new OaTokenUnavailable("no token stored");
    return doc;
  }

  /** The access token of a generation, opened; undefined when it has none. */
  private accessOf(doc: OaTokenDoc): string | undefined {
    if (doc.accessTokenSealed) return this.options.sealer.open(doc.accessTokenSealed);
    return doc.accessToken || undefined;
  }

  /** The refresh token of a generation, opened. */
  private refreshOf(doc: OaTokenDoc): string {
    if (doc.refreshTokenSealed) return this.options.sealer.open(doc.refreshTokenSealed);
    if (doc.refreshToken) return doc.refreshToken;
    throw new OaTokenUnavailable(`generation ${doc.generation} holds no refresh token`);
  }

  private usable(doc: OaTokenDoc, now: Date): boolean {
    return Boolean(doc.accessTokenSealed || doc.accessToken) && !doc.invalidatedAt && doc.expiresAt > now;
  }

  private due(doc: OaTokenDoc, now: Date): boolean {
    return !this.usable(doc, now) || doc.expiresAt.getTime() - this.marginMs <= now.getTime();
  }

  /**
   * An access token to call the OA API with, refreshed first when it is due. Throws
   * OaTokenUnavailable when there is none to be had now (refresh failing or under way elsewhere
   * for longer than peerWaitMs).
   */
  async accessToken(): Promise<string> {
    const doc = await this.current();
    const now = this.options.clock.now();
    const current = this.accessOf(doc);
    if (current && !this.due(doc, now)) return current;
    const attempt = await this.attempt(doc);
    const refreshed = attempt.kind === "refreshed" ? this.accessOf(attempt.doc) : undefined;
    if (refreshed) return refreshed;
    if (current && this.usable(doc, now)) return current;
    if (attempt.kind === "busy") {
      const newer = await this.waitForPeer(doc.generation);
      if (newer) return newer;
    }
    throw new OaTokenUnavailable(
      attempt.kind === "failed" ? attempt.detail : (doc.lastError ?? "refresh pending"),
    );
  }

  /** For the timer: refreshes ahead of expiry. Never throws — a failure is logged and alerted. */
  async refreshIfDue(): Promise<void> {
    try {
      const doc = await this.current();
      if (this.due(doc, this.options.clock.now())) await this.attempt(doc);
    } catch (error) {
      this.options.log.error({ err: error, appId: this.options.appId }, "zalo oa: token check failed");
    }
  }

  /**
   * Zalo refused this access token before its time: the next call refreshes. Sealed values differ
   * at every seal, so the generation is found by opening the newest few.
   */
  async invalidate(accessToken: string): Promise<void> {
    const recent = await this.model
      .find({ appId: this.options.appId })
      .sort({ generation: -1 })
      .limit(INVALIDATE_LOOKBACK)
      .lean();
    const doc = recent.find((d) => this.accessOf(d) === accessToken);
    if (!doc) return;
    await this.model.updateOne({ _id: doc._id }, { $set: { invalidatedAt: this.options.clock.now() } });
  }

  private async attempt(doc: OaTokenDoc): Promise<Attempt> {
    const { appId, claims, clock, log } = this.options;
    const now = clock.now();
    if (doc.nextRefreshAt && doc.nextRefreshAt > now) return { kind: "waiting" };
    let attempt = doc.refreshAttempts;
    if (doc.refreshingSince) {
      if (now.getTime() - doc.refreshingSince.getTime() < this.leaseMs) return { kind: "busy" };
      // The refresher has been gone longer than a refresh can take: its attempt is over.
      await this.model.updateOne(
        { _id: doc._id, refreshAttempts: attempt },
        { $set: { refreshAttempts: attempt + 1 }, $unset: { refreshingSince: 1 } },
      );
      attempt += 1;
    }
    if (!(await claims.take(`zalo-oa:refresh:${appId}:${doc.generation}:${attempt}`, this.owner, now))) {
      return { kind: "busy" };
    }
    await this.model.updateOne({ _id: doc._id }, { $set: { refreshingSince: now } });
    let pair: TokenPair;
    try {
      pair = await this.options.refresh(this.refreshOf(doc));
    } catch (error) {
      return this.failed(doc, attempt, describe(error));
    }
    // From here generation n's refresh token is spent: the new pair must reach the database
    // before anything uses it.
    const obtainedAt = clock.now();
    this.unsaved = { pair, obtainedAt, parent: doc.generation };
    const stored = await this.saveUnsaved();
    // Unstored, the old document stays "being refreshed" so that no one else spends the dead
    // token; the pair is stored at the next call (saveUnsaved runs first in every call).
    if (!stored) return { kind: "failed", detail: "the new token pair could not be stored yet" };
    await this.model.updateOne(
      { _id: doc._id },
      { $set: { refreshAttempts: attempt + 1 }, $unset: { refreshingSince: 1 } },
    );
    log.info({ appId, generation: stored.generation }, "zalo oa: access token refreshed");
    return { kind: "refreshed", doc: stored };
  }

  /** Stores the pair Zalo gave us, if one is waiting; kept in memory until that succeeds. */
  private async saveUnsaved(): Promise<OaTokenDoc | undefined> {
    const pending = this.unsaved;
    if (!pending) return undefined;
    try {
      const doc = await this.insertOnTop({
        source: "refresh",
        origin: `refresh-of:${pending.parent}`,
        accessToken: pending.pair.accessToken,
        refreshToken: pending.pair.refreshToken,
        expiresAt: new Date(pending.obtainedAt.getTime() + pending.pair.expiresInSeconds * 1000),
        obtainedAt: pending.obtainedAt,
      });
      this.unsaved = undefined;
      return doc;
    } catch (error) {
      this.options.log.error(
        { err: error, appId: this.options.appId },
        "zalo oa: a refreshed token pair could not be stored; kept in memory, retrying",
      );
      return undefined;
    }
  }

  private async failed(doc: OaTokenDoc, attempt: number, detail: string): Promise<Attempt> {
    const { appId, clock, log } = this.options;
    const now = clock.now();
    const failures = doc.failures + 1;
    const base = this.options.backoffMs ?? 60_000;
    const wait = Math.min(this.options.maxBackoffMs ?? 30 * 60_000, base * 2 ** (failures - 1));
    await this.model.updateOne(
      { _id: doc._id },
      {
        $set: {
          refreshAttempts: attempt + 1,
          failures,
          lastError: detail.slice(0, 500),
          nextRefreshAt: new Date(now.getTime() + wait),
          ...(doc.alertedAt ? {} : { alertedAt: now }),
        },
        $unset: { refreshingSince: 1 },
      },
    );
    log.error(
      { appId, generation: doc.generation, failures, error: detail },
      "zalo oa: token refresh failed",
    );
    if (!doc.alertedAt) {
      try {
        await this.options.onRefreshFailed(detail, `${appId}:${doc.generation}`);
      } catch (error) {
        log.error({ err: error, appId }, "zalo oa: could not alert the admins");
      }
    }
    return { kind: "failed", detail };
  }

  /** Another instance holds the claim: wait a little for the generation it is about to store. */
  private async waitForPeer(generation: number): Promise<string | undefined> {
    const deadline = Date.now() + (this.options.peerWaitMs ?? 20_000);
    while (Date.now() < deadline) {
      await sleep(100);
      const doc = await this.top();
      if (doc && doc.generation > generation && this.usable(doc, this.options.clock.now())) {
        return this.accessOf(doc);
      }
    }
    return undefined;
  }
}
