import mongoose, { type Model } from "mongoose";
import { Batcher } from "./batcher.js";
import { isDuplicateKeyError } from "./errors.js";
import { MAX_INSERTS_PER_COMMAND } from "./limits.js";

/**
 * New documents that many callers write at about the same time, sent as one unordered
 * `insertMany` (batched as Batcher does): each caller hears its own outcome (written, its own
 * duplicate key, the schema's refusal, the command's failure), as it did from its own insert.
 * Under load, the updates, states and replies of thirty turns landing together cost a few
 * commands instead of thirty each; alone, one insert costs one command, as before.
 *
 * Why it pays: on FerretDB thirty inserts of one document took 37 ms, one `insertMany` of thirty
 * 3 ms (measured 2026-12-01 on this 2-core machine, into a collection of 3,000); and every
 * command also costs the bot's own process its driver's work, which is what a burst of
 * turns waits on.
 *
 * A document the schema refuses fails its caller alone. A command that fails as a whole (the
 * connection cut, the server refusing) fails every caller in it, each of whom deals with it as
 * with its own insert (some documents may have landed: a retry meets its own).
 */
/**
 * `fields` without the keys whose value is undefined, as a model leaves them out of what it
 * stores (the driver would write them as null): for documents made by hand and inserted as they
 * stand (GroupInsert's `asStored`, storedReply, storedTicket).
 */
export function definedFields<T extends object>(fields: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as T;
}

/**
 * Thrown for a document made by hand that its schema would refuse; like the model's refusal, it
 * stores nothing. `kind` names the document in the message ("ticket: content is required").
 */
export class StoredRefused extends Error {
  constructor(kind: string, path: string, why: string) {
    super(`${kind}: ${path} ${why}`);
    this.name = "StoredRefused";
  }
}

/** `value` when it is a string with something in it, as a schema's `required` asks; else refused. */
export function requiredString(value: string | undefined, kind: string, path: string): string {
  if (typeof value !== "string" || value.length === 0) throw new StoredRefused(kind, path, "is required");
  return value;
}

export class GroupInsert<T> {
  /** Plain documents (the model makes and validates them at the insert), or documents as stored. */
  private readonly batcher: Batcher<object>;

  /**
   * `asStored`: callers hand over documents complete as they are to be stored (their `_id`, every
   * default, values of the schema's types), which go to the driver as they are, with the version
   * key a first write gives, and no field left undefined. The model does not make and validate a
   * document of each: for the outbox's replies, whose buttons are an array of subdocuments, that
   * was most of what the model cost a turn (bench/load: a burst of thirty turns spent a sixth of
   * the bot's CPU making outbox documents, once when the reply was decided and again at its
   * insert). The caller is then the one place that shapes them (storedReply, storedTicket,
   * storedPerson, storedAccount).
   */
  constructor(
    private readonly model: Model<T>,
    private readonly options: { asStored?: boolean } = {},
  ) {
    this.batcher = new Batcher(MAX_INSERTS_PER_COMMAND, (docs) => this.outcomes(docs));
  }

  insert(doc: object): Promise<void> {
    return this.batcher.add(this.options.asStored ? this.stored(doc) : doc);
  }

  /** As the model's insert would store `doc`: no undefined field, and the version of a first write. */
  private stored(doc: object): Record<string, unknown> {
    const out = definedFields(doc) as Record<string, unknown>;
    const versionKey = this.model.schema.get("versionKey");
    if (typeof versionKey === "string" && out[versionKey] === undefined) out[versionKey] = 0;
    return out;
  }

  /** Several documents handed over together, which then share commands: each its own outcome. */
  insertAll(docs: Record<string, unknown>[]): Promise<void>[] {
    return this.batcher.addAll(this.options.asStored ? docs.map((doc) => this.stored(doc)) : docs);
  }

  /** Each document's outcome, in order: undefined for written, else its error. */
  private async outcomes(docs: object[]): Promise<unknown[]> {
    // Alone: the plain insert, exactly as before there was any grouping.
    if (docs.length === 1) return [await this.createOne(docs[0] ?? {})];
    return this.insertMany(docs);
  }

  /** One document's own insert: undefined when written, else its error. */
  private createOne(doc: object): Promise<unknown> {
    // Through a promise: the driver throws at once, not as a rejection, on a closed connection.
    const written = Promise.resolve().then(async (): Promise<unknown> =>
      this.options.asStored
        ? this.model.collection.insertOne(doc)
        : this.model.create(doc as Parameters<Model<T>["create"]>[0]),
    );
    return written.then(
      () => undefined,
      (error: unknown) => error ?? new Error("insert failed"),
    );
  }

  /** As outcomes, for several documents in one command. */
  private async insertMany(docs: object[]): Promise<unknown[]> {
    try {
      if (this.options.asStored) {
        // The driver's own error for a document it refused has the same writeErrors as below.
        await this.model.collection.insertMany(docs, { ordered: false });
        return docs.map(() => undefined);
      }
      const result = await this.model.insertMany(docs, { ordered: false, rawResult: true });
      // Documents the schema refused are left out of the command and reported here, each in its place.
      const results = (result as { mongoose?: { results?: unknown[] } }).mongoose?.results ?? [];
      return docs.map((_, i) => (results[i] instanceof Error ? results[i] : undefined));
    } catch (error) {
      const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
      // No per-document account (the driver reports a command that failed as a whole with an
      // empty list): every document in it failed with it.
      if (!Array.isArray(writeErrors) || writeErrors.length === 0) {
        // Unless it reads as a duplicate key, which it cannot be for all of them: each document
        // is then tried on its own, so that only the one it belongs to is told so (a caller told
        // "duplicate" takes its update for a redelivery and drops it).
        if (isDuplicateKeyError(error)) return Promise.all(docs.map((doc) => this.createOne(doc)));
        return docs.map(() => error);
      }
      const refused = new Map<number, unknown>();
      for (const w of writeErrors as { index: number; code?: number; errmsg?: string }[]) {
        // As the server's answer to that document's own insert would have been.
        refused.set(
          w.index,
          new mongoose.mongo.MongoServerError({
            message: w.errmsg ?? "write error",
            code: w.code,
            errmsg: w.errmsg,
          }),
        );
      }
      const results = (error as { results?: unknown[] }).results ?? [];
      return docs.map((_, i) => refused.get(i) ?? (results[i] instanceof Error ? results[i] : undefined));
    }
  }
}
