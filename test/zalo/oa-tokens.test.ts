import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Connection, Model } from "mongoose";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { alertAdmins } from "../../bots/zalo/admin-alert.js";
import { ZaloOaApi } from "../../bots/zalo/oa-api.js";
import { OaTokens, oaTokenModel } from "../../bots/zalo/oa-tokens.js";
import { OaTokenUnavailable } from "../../bots/zalo/send-errors.js";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { Claims, claimSchema, type ClaimDoc } from "../../src/db/claims.js";
import { connectMongo } from "../../src/db/connect.js";
import { silentLogger } from "../../src/log.js";
import { Sealer } from "../../src/privacy/sealer.js";
import { t } from "../../src/text/vi.js";
import { runCli } from "../support/cli.js";
import { buildApp, TEST_SEALER, useDatabase } from "../support/db.js";
import type { FakeZalo } from "./fake-zalo.js";
import { startFakeZalo } from "./fake-zalo.js";
import { deliverAll, type Rig, startRig } from "./harness.js";

const db = useDatabase(import.meta.filename);
/** A second connection to the same database: another instance of the bot. */
let other: Connection | undefined;
let fake: FakeZalo | undefined;
let rig: Rig | undefined;

beforeAll(async () => {
  other = await connectMongo(inject("mongoUri"), db.connection.name);
});
afterAll(async () => {
  await other?.close();
});
afterEach(async () => {
  await rig?.stop();
  await fake?.close();
  rig = undefined;
  fake = undefined;
});

const HOUR = 3_600_000;

async function open(): Promise<{ app: App; clock: FixedClock; fake: FakeZalo }> {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  fake = await startFakeZalo();
  return { app, clock, fake };
}

/** One instance's token keeper, on `connection`, wired as createZaloChannel wires it. */
function keeper(
  app: App,
  clock: FixedClock,
  f: FakeZalo,
  seed: { refreshToken: string; accessToken?: string },
  connection: Connection = db.connection,
  extra: { peerWaitMs?: number; sealer?: Sealer } = {},
): OaTokens {
  const api = new ZaloOaApi({ baseUrl: f.url, oauthUrl: f.url });
  return new OaTokens({
    appId: f.oa.appId,
    seed,
    refresh: (refreshToken) =>
      api.refreshAccessToken({ appId: f.oa.appId, secretKey: f.oa.appSecret, refreshToken }),
    onRefreshFailed: (detail, episode) =>
      alertAdmins(app, t.channels.zaloTokenRefreshFailed(detail), `zalo-oa-token:${episode}`, silentLogger()),
    model: oaTokenModel(connection),
    sealer: extra.sealer ?? TEST_SEALER,
    claims:
      connection === db.connection
        ? app.claims
        : new Claims(
            (connection.models.Claim as Model<ClaimDoc> | undefined) ??
              connection.model<ClaimDoc>("Claim", claimSchema),
          ),
    clock,
    log: silentLogger(),
    ...(extra.peerWaitMs !== undefined ? { peerWaitMs: extra.peerWaitMs } : {}),
  });
}

/** Every token the fake issues looks like this; none may be readable in the collection. */
const TOKEN = /\b(?:at|rt)-[0-9a-f]{20}\b/;

/** The zalo_oa_tokens collection as a database dump would show it. */
async function dump(): Promise<string> {
  const docs = await oaTokenModel(db.connection).collection.find().toArray();
  return JSON.stringify(docs);
}

describe("the OA token, refreshed before it expires", () => {
  it("stores each new pair before using it, and spends every refresh token once", async () => {
    const { app, clock, fake } = await open();
    const seed = { refreshToken: fake.issueRefreshToken() };
    const tokens = keeper(app, clock, fake, seed);
    const first = await tokens.accessToken();
    const model = oaTokenModel(db.connection);
    const top = await model.findOne().sort({ generation: -1 }).lean();
    expect(TEST_SEALER.open(top?.accessTokenSealed ?? "")).toBe(first);
    const stored = TEST_SEALER.open(top?.refreshTokenSealed ?? "");
    expect(fake.oa.validRefreshTokens.has(stored)).toBe(true);
    expect(top?.expiresAt.getTime()).toBe(clock.now().getTime() + 90_000_000); // expires_in "90000"

    // Not due yet 23 hours later (25 h tokens, refreshed an hour ahead)…
    clock.advance(23 * HOUR);
    await tokens.refreshIfDue();
    expect(fake.oa.refreshCalls).toHaveLength(1);
    // …due after 24 hours.
    clock.advance(HOUR);
    await tokens.refreshIfDue();
    expect(fake.oa.refreshCalls).toHaveLength(2);
    expect(fake.oa.refreshCalls[1]?.refreshToken).toBe(stored);
    expect(await tokens.accessToken()).not.toBe(first);
    expect(fake.oa.refreshCalls.every((c) => c.accepted)).toBe(true);
  });

  it("never spends one refresh token twice, with four instances on two connections racing", async () => {
    const { app, clock, fake } = await open();
    fake.oa.refreshDelayMs = 150;
    const seed = { refreshToken: fake.issueRefreshToken() };
    const instances = [db.connection, other!, db.connection, other!].map((c) =>
      keeper(app, clock, fake, seed, c),
    );
    for (let round = 0; round < 3; round += 1) {
      // While one refreshes, the others go on with the current token: it has half an hour left.
      const got = await Promise.all(instances.map((i) => i.accessToken()));
      expect(got.every((token) => fake.oa.validAccessTokens.has(token))).toBe(true);
      // Then everyone uses the pair that was stored.
      const after = await Promise.all(instances.map((i) => i.accessToken()));
      expect(new Set(after).size).toBe(1);
      clock.advance(24.5 * HOUR);
    }
    // The configuration was seeded once, though all four started together.
    expect(await oaTokenModel(db.connection).countDocuments({ source: "config" })).toBe(1);
    const used = fake.oa.refreshCalls.map((c) => c.refreshToken);
    expect(used).toHaveLength(3);
    expect(new Set(used).size).toBe(3);
    expect(fake.oa.refreshCalls.every((c) => c.accepted)).toBe(true);
  });

  it("does not reuse a spent token after a restart, and starts again from a new one in the configuration", async () => {
    const { app, clock, fake } = await open();
    const seed = { refreshToken: fake.issueRefreshToken() };
    const before = await keeper(app, clock, fake, seed).accessToken();
    // Restarted with the same environment: the stored chain goes on.
    expect(await keeper(app, clock, fake, seed).accessToken()).toBe(before);
    expect(fake.oa.refreshCalls).toHaveLength(1);
    // The OA was authorised again and ZALO_OA_REFRESH_TOKEN changed: a new generation on top.
    const renewed = { refreshToken: fake.issueRefreshToken() };
    const after = await keeper(app, clock, fake, renewed).accessToken();
    expect(after).not.toBe(before);
    expect(fake.oa.refreshCalls.map((c) => c.refreshToken)).toEqual([
      seed.refreshToken,
      renewed.refreshToken,
    ]);
  });

  it("takes over an attempt whose process died, but only after its lease", async () => {
    const { app, clock, fake } = await open();
    const seed = { refreshToken: fake.issueRefreshToken() };
    const tokens = keeper(app, clock, fake, seed, db.connection, { peerWaitMs: 300 });
    await tokens.init();
    // Another instance claimed the first attempt and vanished before storing anything.
    const model = oaTokenModel(db.connection);
    const seeded = await model.findOne().lean();
    await app.claims.take(
      `zalo-oa:refresh:${fake.oa.appId}:${seeded?.generation}:0`,
      "vanished",
      clock.now(),
    );
    await model.updateOne({ _id: seeded?._id }, { $set: { refreshingSince: clock.now() } });
    await expect(tokens.accessToken()).rejects.toBeInstanceOf(OaTokenUnavailable);
    expect(fake.oa.refreshCalls).toHaveLength(0);
    clock.advance(5 * 60_000 + 1);
    expect(fake.oa.validAccessTokens.has(await tokens.accessToken())).toBe(true);
    expect(fake.oa.refreshCalls).toHaveLength(1);
  });
});

describe("the OA tokens at rest", () => {
  it("keeps no token readable in the collection, through refreshes and a revoked token", async () => {
    const { app, clock, fake } = await open();
    const tokens = keeper(app, clock, fake, {
      refreshToken: fake.issueRefreshToken(),
      accessToken: fake.issueAccessToken(),
    });
    const first = await tokens.accessToken();
    clock.advance(24.5 * HOUR);
    const second = await tokens.accessToken();
    await tokens.invalidate(second);
    const third = await tokens.accessToken();
    expect(new Set([first, second, third]).size).toBe(3);
    expect(fake.oa.refreshCalls.length).toBeGreaterThanOrEqual(2);
    expect(fake.oa.refreshCalls.every((c) => c.accepted)).toBe(true);
    const stored = await dump();
    expect(stored).not.toMatch(TOKEN);
    expect(stored).toContain("s1.test.");
  });

  it("reads a pair an earlier version stored in clear, seals it, and refreshes with it", async () => {
    const { app, clock, fake } = await open();
    const seed = { refreshToken: fake.issueRefreshToken(), accessToken: fake.issueAccessToken() };
    // As the previous version wrote it at its first start.
    await oaTokenModel(db.connection).collection.insertOne({
      appId: fake.oa.appId,
      generation: 1,
      accessToken: seed.accessToken,
      refreshToken: seed.refreshToken,
      expiresAt: new Date(clock.now().getTime() + 20 * HOUR),
      obtainedAt: clock.now(),
      source: "config",
      origin: `seed:${createHash("sha256").update(seed.refreshToken).digest("hex")}`,
      refreshAttempts: 0,
      failures: 0,
    });
    const tokens = keeper(app, clock, fake, seed);
    expect(await tokens.accessToken()).toBe(seed.accessToken);
    expect(fake.oa.refreshCalls).toHaveLength(0);
    expect(await dump()).not.toMatch(TOKEN);
    // Its refresh token, read from the sealed copy, is the one spent.
    clock.advance(19.5 * HOUR);
    expect(fake.oa.validAccessTokens.has(await tokens.accessToken())).toBe(true);
    expect(fake.oa.refreshCalls.map((c) => [c.refreshToken, c.accepted])).toEqual([
      [seed.refreshToken, true],
    ]);
  });

  it("is resealed under the new key by npm run keys:rotate, clear pairs included", async () => {
    const { app, clock, fake } = await open();
    const old = { id: "k2026", key: randomBytes(32) };
    const fresh = { id: "k2027", key: randomBytes(32) };
    const seed = { refreshToken: fake.issueRefreshToken() };
    const tokens = keeper(app, clock, fake, seed, db.connection, { sealer: new Sealer([old]) });
    const current = await tokens.accessToken();
    const legacy = { accessToken: fake.issueAccessToken(), refreshToken: fake.issueRefreshToken() };
    await oaTokenModel(db.connection).collection.insertOne({
      appId: "1111111111",
      generation: 1,
      ...legacy,
      expiresAt: clock.now(),
      obtainedAt: clock.now(),
      source: "config",
      origin: "seed:legacy",
      refreshAttempts: 0,
      failures: 0,
    });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-oa-keys-"));
    try {
      const run = await runCli("src/cli/keys.ts", ["rotate"], {
        MONGODB_URI: inject("mongoUri"),
        MONGODB_DB: db.connection.name,
        DATA_DIR: dataDir,
        DATA_ENCRYPTION_KEYS: [fresh, old].map((k) => `${k.id}:${k.key.toString("base64")}`).join(","),
        FILE_LINK_SECRET: "test-file-link-secret-0123456789abcdef",
      });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      // Under the old key: the seed's refresh token and the refreshed pair; in clear: one pair.
      expect(run.stdout).toContain(t.cli.resealedOaTokens(5));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    const docs = await oaTokenModel(db.connection).find().lean();
    const keyIds = docs.flatMap((d) => [d.accessTokenSealed, d.refreshTokenSealed].filter(Boolean));
    expect(new Set(keyIds.map((v) => v?.split(".")[1]))).toEqual(new Set(["k2027"]));
    expect(await dump()).not.toMatch(TOKEN);
    // The new key alone opens what the old one sealed.
    const after = keeper(app, clock, fake, seed, db.connection, { sealer: new Sealer([fresh]) });
    expect(await after.accessToken()).toBe(current);
  });
});

describe("a refresh that fails", () => {
  const failure = { body: { error: -14020, error_name: "Invalid refresh token", error_description: "used" } };

  it("alerts the admins once per episode and never throws", async () => {
    const { app, clock, fake } = await open();
    await app.people.ensureAdmin("console", "admin", "Quản trị Một", clock.now());
    await app.people.ensureAdmin("zalo", "ad00ad00ad00ad00ad00", "Quản trị Hai", clock.now());
    const alerts = () => app.outbox.model.find({ dedupeKey: /^zalo-oa-token:/ }).lean();
    fake.oa.scriptedRefresh.push(failure, failure);
    const tokens = keeper(app, clock, fake, { refreshToken: fake.issueRefreshToken() });

    await tokens.refreshIfDue();
    const first = await alerts();
    expect(first.map((a) => a.chatId).sort()).toEqual(["ad00ad00ad00ad00ad00", "admin"]);
    expect(first.map((a) => app.outbox.textOf(a))[0]).toBe(
      t.channels.zaloTokenRefreshFailed("zalo oa oauth/access_token: -14020 used"),
    );
    // Backing off: no call to Zalo, no new alert, and callers get a clear error.
    await expect(tokens.accessToken()).rejects.toBeInstanceOf(OaTokenUnavailable);
    expect(fake.oa.refreshCalls).toHaveLength(1);
    clock.advance(61_000);
    await tokens.refreshIfDue();
    expect(fake.oa.refreshCalls).toHaveLength(2);
    expect(await alerts()).toHaveLength(2);
    // Zalo recovers: the episode is over.
    clock.advance(121_000);
    expect(fake.oa.validAccessTokens.has(await tokens.accessToken())).toBe(true);
    // A later failure is a new episode, told again.
    fake.oa.scriptedRefresh.push(failure);
    clock.advance(24.5 * HOUR);
    await tokens.refreshIfDue();
    expect(await alerts()).toHaveLength(4);
  });

  it("keeps OA messages waiting in the outbox while the admin gets the alert on Zalo", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await app.people.ensureAdmin("zalo", "ad00ad00ad00ad00ad00", "Quản trị", clock.now());
    rig = await startRig(app, { oa: true, beforeStart: (f) => f.oa.scriptedRefresh.push(failure) });
    await app.outbox.enqueue([
      { to: { channel: "zalo", chatId: "oa:5510185758261927916" }, text: "Xin chào", dedupeKey: "oa-waits" },
    ]);
    await app.dispatchers.get("zalo")?.drain();
    const waiting = await app.outbox.model.findOne({ dedupeKey: "oa-waits" }).lean();
    expect(waiting?.status).toBe("pending");
    expect(waiting?.attempts).toBe(0);
    expect(waiting?.nextAttemptAt.getTime()).toBe(clock.now().getTime() + 5 * 60_000);
    const alert = rig.fake.bot.sent.find((m) => m.chatId === "ad00ad00ad00ad00ad00");
    expect(alert?.text).toContain("Cảnh báo quản trị");
    // Once Zalo answers again, the waiting message goes out.
    await deliverAll(app);
    expect((await app.outbox.model.findOne({ dedupeKey: "oa-waits" }).lean())?.status).toBe("sent");
  });
});
