import { createHash } from "node:crypto";
import { Schema, Types, type Model } from "mongoose";
import { isDuplicateKeyError } from "./errors.js";
import { GroupInsert } from "./group-insert.js";

/**
 * Mutual exclusion that holds on MongoDB and on FerretDB alike. FerretDB v1 (SQLite) does not
 * apply `findOneAndUpdate` atomically under concurrent connections — measured here: ten
 * concurrent claims of one document, five to seven "won" (test/db/concurrency.test.ts) — but it
 * does enforce unique indexes. So whoever inserts a claim key first owns the thing it names.
 *
 * Keys name one claim event, e.g. `outbox:<id>:<claimSeq>`: the winner bumps claimSeq on the
 * document, so the next claim (after a lease expires) uses a fresh key.
 */
export interface ClaimDoc {
  _id: Types.ObjectId;
  key: string;
  owner: string;
  createdAt: Date;
}

export const claimSchema = new Schema<ClaimDoc>(
  {
    key: { type: String, required: true, unique: true },
    owner: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: "claims" },
);
claimSchema.index({ createdAt: 1 });

/** The `_id` of a note written with noteById: the key's first 12 bytes of SHA-256. */
function idOfKey(key: string): Types.ObjectId {
  return new Types.ObjectId(createHash("sha256").update(key, "utf8").digest().subarray(0, 12));
}

export class Claims {
  /** Notes written at the same moment, written together (see note). */
  private readonly notes: GroupInsert<ClaimDoc>;

  constructor(private readonly model: Model<ClaimDoc>) {
    this.notes = new GroupInsert(model);
  }

  /**
   * Writes `key` as a note that something happened (kept as long as claims are), whoever wrote it
   * first: unlike take, the caller does not need to be first. Notes written by turns ending at
   * the same moment leave as one insert, which FerretDB takes far faster than as many updates.
   */
  async note(key: string, owner: string, now: Date): Promise<void> {
    await this.insertNote({ key, owner, createdAt: now });
  }

  /**
   * As note, under an `_id` made from the key, for a note read often (noteFound): FerretDB filters
   * `_id` in SQL and any other field in Go over the whole collection (docs/ferretdb.md), and
   * `claims` holds a day of every claim.
   */
  async noteById(key: string, owner: string, now: Date): Promise<void> {
    await this.insertNote({ _id: idOfKey(key), key, owner, createdAt: now });
  }

  /** A note's insert: one there already, whoever wrote it, is as good. */
  private async insertNote(doc: Record<string, unknown>): Promise<void> {
    try {
      await this.notes.insert(doc);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /** Whether `key` was noted with noteById (and not swept yet): a read by `_id`. */
  async noteFound(key: string): Promise<boolean> {
    return (await this.model.exists({ _id: idOfKey(key) })) !== null;
  }

  /** Whether `key` was taken or noted (and not swept yet). */
  async exists(key: string): Promise<boolean> {
    return (await this.model.exists({ key })) !== null;
  }

  /** True for exactly one caller per key, whatever the concurrency. */
  async take(key: string, owner: string, now: Date): Promise<boolean> {
    try {
      await this.model.create({ key, owner, createdAt: now });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  /**
   * Takes the claim, or finds it already taken by the same owner: what a replay of the owner's own
   * work meets after a crash cut it off between the claim and its record.
   */
  async takeOrHeld(key: string, owner: string, now: Date): Promise<boolean> {
    if (await this.take(key, owner, now)) return true;
    return (await this.model.exists({ key, owner })) !== null;
  }

  /**
   * Takes the claim for a change of a record at one version: free, held by the same owner (a
   * replay), or left by a claimer that died before making its change (older than `leaseMs` while
   * the record still stands at that version, which the caller has just read).
   */
  async takeVersion(key: string, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    if (await this.takeOrHeld(key, owner, now)) return true;
    const lapsed = new Date(now.getTime() - leaseMs);
    return (await this.model.exists({ key, createdAt: { $lt: lapsed } })) !== null;
  }

  /**
   * Claims `<prefix>:<seq>` for a document whose claim counter reads `seq`; returns the counter
   * value claimed, or undefined when another has the claim. A claimer that died between taking a
   * key and bumping the document's counter leaves the key taken for good: once that claim is
   * older than `leaseMs`, the next key is tried, or the document could never be claimed again.
   */
  async takeSeq(
    prefix: string,
    seq: number,
    owner: string,
    now: Date,
    leaseMs: number,
  ): Promise<number | undefined> {
    const lapsed = new Date(now.getTime() - leaseMs);
    for (let next = seq; ; next += 1) {
      // Held by the same owner: its own earlier try, whose answer a cut connection lost or whose
      // next write failed; waiting out its own lease would hold the thing for nothing.
      if (await this.takeOrHeld(`${prefix}:${next}`, owner, now)) return next;
      const stale = await this.model.exists({ key: `${prefix}:${next}`, createdAt: { $lt: lapsed } });
      if (stale === null) return undefined;
    }
  }

  /** Claims only matter while their lease can run; old ones are removed. */
  async sweep(olderThan: Date): Promise<number> {
    const result = await this.model.deleteMany({ createdAt: { $lt: olderThan } });
    return result.deletedCount;
  }
}
