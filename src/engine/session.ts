import { Schema, type Model, type Types } from "mongoose";
import { resealField } from "../privacy/reseal.js";
import type { Sealer } from "../privacy/sealer.js";
import { isDuplicateKeyError } from "../db/errors.js";
import { Batcher } from "../db/batcher.js";
import { GroupInsert } from "../db/group-insert.js";
import type { Outbound } from "./message.js";
import { KEEP_OUTBOUND_MS, keptOutbound, sealOutbound } from "./sealed-outbound.js";

/**
 * Where a person is inside a flow. Each turn that changes it writes a new document under the next
 * sequence number of its chat key; the unique index on (key, seq) is the compare-and-set that keeps
 * two instances from both applying a step to the same state (an insert under a unique key is the one
 * exclusive write FerretDB v1 and MongoDB both honour, see db/claims.ts). The newest document is
 * the state; older ones are removed by the sweep. MongoDB TTL indexes are not portable to FerretDB,
 * so expiry is a field every read respects and the sweep deletes.
 */
export interface SessionDoc {
  /**
   * `<key>#<seq>` (sessionId): the state after a known one is then found by `_id` alone, which
   * FerretDB filters in SQL, several times faster than any other filter (docs/ferretdb.md).
   * Documents written before carry an ObjectId.
   */
  _id: string | Types.ObjectId;
  key: string;
  /** The chat's sequence number: the state it was written over had seq - 1. */
  seq: number;
  /** The update whose turn wrote it: its own replay after a crash meets it and goes on. */
  update?: string;
  /**
   * Where that update stands in the platform's own order of updates (Telegram's update_id), when
   * the platform gives one: recovery compares it with a cut-off update's (Sessions.onlyEarlierAfter).
   */
  order?: number;
  /**
   * The highest platform order of the updates whose turns wrote this chat's states, this one's
   * included. Not `order`: an update handled late (a redelivery, a run again after another
   * instance moved the chat on) writes a later state with an earlier order, and a redelivery of
   * the update before it must still be seen as handled (Engine.handledBefore).
   */
  high?: number;
  /** True for the state "no flow" written when a flow ends, which keeps the sequence going. */
  ended?: boolean;
  flow: string;
  /** The flow's version when it started; a changed flow restarts politely instead of misreading old data. */
  version: number;
  step: string;
  /**
   * What the flow has collected so far, as JSON sealed with the data key: mid-/gopy it holds the
   * name, address and phone the person typed, until the flow ends or the session expires.
   */
  dataSealed: string;
  /**
   * The messages the turn that wrote this state decided, as JSON sealed with the data key. A turn's
   * effects come before its state, so once this document stands they are done: recovery of the
   * update after a crash sends these instead of running the turn again, which would apply a change
   * the person may have undone since (Sessions.committed). The sweep removes them after a day.
   */
  outboundSealed?: string;
  expiresAt: Date;
  updatedAt: Date;
}

export const sessionSchema = new Schema<SessionDoc>(
  {
    // Mixed: strings for new documents, ObjectIds for older ones, neither cast into the other.
    _id: { type: Schema.Types.Mixed },
    key: { type: String, required: true },
    seq: { type: Number, required: true, default: 0 },
    update: { type: String },
    order: { type: Number },
    high: { type: Number },
    ended: { type: Boolean },
    flow: { type: String, default: "" },
    version: { type: Number, default: 0 },
    step: { type: String, default: "" },
    dataSealed: { type: String, default: "" },
    outboundSealed: { type: String },
    expiresAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: "sessions", minimize: false },
);
sessionSchema.index({ key: 1, seq: 1 }, { unique: true });
sessionSchema.index({ expiresAt: 1 });

export type SessionState = Pick<SessionDoc, "flow" | "version" | "step" | "expiresAt"> & {
  data: Record<string, unknown>;
};

/** A chat's flow state as read at the start of a turn, with the sequence number it was read at. */
export interface LoadedSession {
  state: SessionState | undefined;
  seq: number;
  /**
   * The id of the document the live state was read from. Effects of a turn taken from a state are
   * keyed by it (Turn.idempotencyKey): two messages answering the same step at once on two
   * instances make one ticket, one report, one decision.
   */
  stateId?: string;
  /**
   * Taken from this process's memory without asking the database (Sessions.recall): another
   * instance may have moved the chat on since. A turn from such a state checks before its effects
   * (Engine.process), and its write of the next state is a compare-and-set in any case.
   */
  unchecked?: true;
  /** For an unchecked state: when this process knew it (the clock's ms), see Sessions.movedPast. */
  knownAt?: number;
  /**
   * The highest platform order (Telegram's update_id) of the updates whose turns wrote the chat's
   * states (SessionDoc.high), as read or remembered with the newest; absent when none had one. An
   * update of the chat whose order is not above it came before that state was written
   * (Engine.handledBefore).
   */
  order?: number;
}

/** What a turn wrote with its state (SessionDoc.outboundSealed), or without one (Decisions). */
export interface Committed {
  /** The sequence number of the state it wrote; absent for a turn that wrote none. */
  seq?: number;
  /** The state it wrote ended the flow (or kept none); true for a turn that wrote none. */
  ended: boolean;
  outbound: Outbound[];
}

/**
 * Another turn of the same chat (on another instance) changed the state this turn started from:
 * the turn is run again on the new state.
 */
export class SessionConflict extends Error {
  constructor(readonly key: string) {
    super(`session ${key} changed under this turn`);
    this.name = "SessionConflict";
  }
}

/** How long an expired flow's newest state keeps its data before the sweep empties it. */
const KEEP_ENDED_MS = 3_600_000;
/**
 * How long a state this process wrote or read is taken as its chat's state, once the next one is
 * found missing (Sessions.current). The sweep keeps every state younger than KEEP_RECENT_MS, so
 * a state another instance wrote over it is still there to be found.
 */
const KNOWN_MS = 5 * 60_000;
const KEEP_RECENT_MS = 10 * 60_000;
/** How long a chat's newest state keeps telling which updates came before it (LoadedSession.order). */
const HIGH_WATER_MS = 24 * 3_600_000;
/** Chats remembered at most; past this the memory starts again (every chat is read once more). */
const MAX_KNOWN = 10_000;

/**
 * Where the update writing a state stands in the platform's order (`order`), and the highest
 * order of the chat's states before it (`before`, LoadedSession.order of the state it read).
 */
export interface Ordered {
  order?: number;
  before?: number;
}

/** SessionDoc.order and SessionDoc.high of a state written by an update placed at `ordered`. */
function orderFields(ordered: Ordered | undefined): Pick<SessionDoc, "order" | "high"> {
  const { order, before } = ordered ?? {};
  const high = Math.max(order ?? Number.NEGATIVE_INFINITY, before ?? Number.NEGATIVE_INFINITY);
  return {
    ...(order !== undefined ? { order } : {}),
    ...(Number.isFinite(high) ? { high } : {}),
  };
}

/** Known.order of a state written by an update placed at `ordered`. */
function highOf(ordered: Ordered | undefined): Pick<Known, "order"> {
  const { high } = orderFields(ordered);
  return high !== undefined ? { order: high } : {};
}

/** The id of a chat's state at a sequence number. */
function sessionId(key: string, seq: number): string {
  return `${key}#${seq}`;
}

/**
 * What a flow's effects are keyed by (LoadedSession.stateId): the document's id, and for ids made
 * from the sequence number also the update that wrote it, since a sequence that started again
 * (a chat's states deleted by hand) would give a later state the id of an earlier one, and its
 * effect would be taken for that one's replay.
 */
function stateIdOf(doc: Pick<SessionDoc, "_id" | "update">): string {
  return typeof doc._id === "string" ? `${doc._id}@${doc.update ?? ""}` : String(doc._id);
}

/** A chat's state as this process last wrote or read it (the data as stored, JSON). */
interface Known {
  seq: number;
  stateId?: string;
  state?: Omit<SessionState, "data"> & { json: string };
  /** LoadedSession.order of that state. */
  order?: number;
  /** When it was remembered (the clock's time). */
  at: number;
}

/** Chats read in one command at most (Sessions.newest). */
const MAX_KEYS_PER_READ = 50;

export class Sessions {
  /** What each chat's last turn here wrote or read (see current). */
  private readonly known = new Map<string, Known>();
  /**
   * Chats another instance wrote to lately (found at a write or a check), until when (the clock's
   * ms): their state is read rather than remembered (recall), since a balancer that spreads a
   * chat's messages over instances makes every other memory old, and a turn from an old one costs
   * a refused write, a read and a run again, more than the read.
   */
  private readonly shared = new Map<string, number>();

  /** States written by turns ending together, written together (each still its own compare-and-set). */
  private readonly inserts: GroupInsert<SessionDoc>;
  /** Chats read at about the same moment, read together (see newest). */
  private readonly reads: Batcher<{ key: string; found: SessionDoc | null }>;

  constructor(
    private readonly model: Model<SessionDoc>,
    private readonly sealer: Sealer,
  ) {
    // Every field named by save and end, of the schema's types: stored as made (see GroupInsert).
    this.inserts = new GroupInsert(model, { asStored: true });
    this.reads = new Batcher(MAX_KEYS_PER_READ, async (asks) => {
      await this.findNewest(asks);
      return asks.map(() => undefined);
    });
  }

  /**
   * A chat's newest state document, or null. Chats read while another read is on its way are read
   * together, in one command: thirty newcomers' first messages cost one scan of the collection
   * (FerretDB filters anything but `_id` by reading every document) instead of thirty. Alone, a
   * read is the plain one it always was.
   */
  private async newest(key: string): Promise<SessionDoc | null> {
    const ask = { key, found: null as SessionDoc | null };
    await this.reads.add(ask);
    return ask.found;
  }

  private async findNewest(asks: { key: string; found: SessionDoc | null }[]): Promise<void> {
    const [only] = asks;
    if (asks.length === 1 && only) {
      only.found = await this.model.findOne({ key: only.key }).sort({ seq: -1 }).lean();
      return;
    }
    // Every state still kept for these chats (the sweep keeps a chat's newest and the last few
    // minutes' of a flow), the newest of each picked here; without the messages a turn kept, the
    // largest field and none of a read's business.
    const docs = await this.model
      .find({ key: { $in: [...new Set(asks.map((a) => a.key))] } })
      .select({ outboundSealed: 0 })
      .lean();
    const newest = new Map<string, SessionDoc>();
    // A document of a version before sequence numbers (until prepare sets 0) comes last, as in
    // the single read's sort.
    const seqOf = (doc: SessionDoc) => doc.seq ?? -1;
    for (const doc of docs) {
      const best = newest.get(doc.key);
      if (!best || seqOf(doc) > seqOf(best)) newest.set(doc.key, doc);
    }
    for (const ask of asks) ask.found = newest.get(ask.key) ?? null;
  }

  /**
   * Before the indexes are made: sessions written by a version with one document per key get
   * sequence 0, and that version's unique index on the key alone is removed (it would refuse the
   * second document of a chat).
   */
  async prepare(): Promise<void> {
    await this.model.updateMany({ seq: { $exists: false } }, { $set: { seq: 0 } });
    await this.model.collection.dropIndex("key_1").catch(() => undefined);
  }

  /** The live session, or undefined when there is none or it has expired. */
  async load(key: string, now: Date): Promise<SessionState | undefined> {
    return (await this.read(key, now)).state;
  }

  /** The newest state of the chat and its sequence number (0 for a chat never in a flow). */
  async read(key: string, now: Date): Promise<LoadedSession> {
    const doc = await this.newest(key);
    // Opened once, for the turn and for the memory (an expired state is neither's).
    const data = doc && !doc.ended && doc.expiresAt > now ? this.dataOf(doc) : undefined;
    const loaded = this.loadedOf(doc, data, now);
    this.remember(key, {
      seq: loaded.seq,
      ...(doc && data ? { stateId: stateIdOf(doc), state: this.knownState(doc, data) } : {}),
      ...(loaded.order !== undefined ? { order: loaded.order } : {}),
      at: now.getTime(),
    });
    return loaded;
  }

  /**
   * The chat's newest state, as read() gives it, at the cost of a read by `_id`: the state this
   * process last wrote or read for the chat, unless a state after it exists (another instance's
   * turn). Checked at the start of the turn, as a read would be, so a flow's effects never run
   * from a state the chat has left.
   */
  async current(key: string, now: Date): Promise<LoadedSession> {
    const known = this.fresh(key, now);
    if (!known || (await this.movedPast(key, known.seq, now, known.at))) return this.read(key, now);
    return (
      this.loadedFromMemory(known, now) ?? {
        state: undefined,
        seq: known.seq,
        ...(known.order !== undefined ? { order: known.order } : {}),
      }
    );
  }

  /**
   * The chat's state as this process last left it, with no database command at all, when that is
   * a step of a flow still running: marked `unchecked`. Anything else as current() gives it.
   *
   * Why only a flow's step: its next state is a compare-and-set (the unique (key, seq)), which
   * fails if another instance moved the chat on, and its effects come at the flow's end, which the
   * engine checks first (Engine.process). A turn outside a flow keeps no state to set, and a
   * command's effects come anywhere: those are checked before they run, as before.
   */
  async recall(key: string, now: Date): Promise<LoadedSession> {
    if ((this.shared.get(key) ?? 0) > now.getTime()) return this.current(key, now);
    const known = this.fresh(key, now);
    const loaded = known && this.loadedFromMemory(known, now);
    return loaded && known ? { ...loaded, unchecked: true, knownAt: known.at } : this.current(key, now);
  }

  /**
   * Whether a state after `seq` exists: the chat moved on from the state at `seq`. A read by `_id`
   * of the next one, which the sweep keeps KEEP_RECENT_MS, while the state at `seq` was known
   * less than KNOWN_MS ago (`knownAt`, absent for now): a state written over it since is younger.
   * Past that (a turn left to wait for the database, run again much later) the sweep may have
   * removed the next one, and any later state is looked for instead (a slower read).
   */
  async movedPast(key: string, seq: number, now: Date, knownAt = now.getTime()): Promise<boolean> {
    const moved =
      now.getTime() - knownAt >= KNOWN_MS
        ? (await this.model.exists({ key, seq: { $gt: seq } })) !== null
        : (await this.model.exists({ _id: sessionId(key, seq + 1) })) !== null;
    if (moved) this.sharedNow(key, now);
    return moved;
  }

  private sharedNow(key: string, now: Date): void {
    if (this.shared.size >= MAX_KNOWN && !this.shared.has(key)) this.shared.clear();
    this.shared.set(key, now.getTime() + KNOWN_MS);
  }

  private fresh(key: string, now: Date): Known | undefined {
    const known = this.known.get(key);
    return known && now.getTime() - known.at < KNOWN_MS ? known : undefined;
  }

  /** A remembered flow state still running, as a turn loads it; undefined for none (or expired). */
  private loadedFromMemory(known: Known, now: Date): LoadedSession | undefined {
    const { state } = known;
    if (!state || state.expiresAt <= now) return undefined;
    const { json, ...fields } = state;
    return {
      state: { ...fields, data: JSON.parse(json) as Record<string, unknown> },
      seq: known.seq,
      ...(known.stateId ? { stateId: known.stateId } : {}),
      ...(known.order !== undefined ? { order: known.order } : {}),
    };
  }

  /** `data`: the state's data opened, undefined for none (ended, expired, or no key opens it). */
  private loadedOf(
    doc: SessionDoc | null,
    data: Record<string, unknown> | undefined,
    now: Date,
  ): LoadedSession {
    if (!doc) return { state: undefined, seq: 0 };
    const seq = doc.seq ?? 0;
    // A state written over a day ago says nothing of a redelivery (Telegram keeps an undelivered
    // update 24 hours), and after a week without updates Telegram numbers them afresh from a
    // random start ("Update", update_id): a high-water from then would make every update of the
    // chat look delivered again.
    const recent = doc.updatedAt.getTime() > now.getTime() - HIGH_WATER_MS;
    const high = !recent ? undefined : typeof doc.high === "number" ? doc.high : doc.order;
    const order = typeof high === "number" ? { order: high } : {};
    // Data no configured key opens cannot be resumed: the person starts the flow again.
    if (!data) return { state: undefined, seq, ...order };
    return {
      state: { flow: doc.flow, version: doc.version, step: doc.step, data, expiresAt: doc.expiresAt },
      seq,
      stateId: stateIdOf(doc),
      ...order,
    };
  }

  private knownState(
    fields: Pick<SessionDoc, "flow" | "version" | "step" | "expiresAt">,
    data: Record<string, unknown>,
  ): Known["state"] {
    const { flow, version, step, expiresAt } = fields;
    return { flow, version, step, expiresAt, json: JSON.stringify(data) };
  }

  private remember(key: string, known: Known): void {
    if (this.known.size >= MAX_KNOWN && !this.known.has(key)) this.known.clear();
    this.known.set(key, known);
  }

  /**
   * Writes the state a turn reached over the state it read at `from`. Throws SessionConflict when
   * another update's turn wrote over that state first; the same update's own earlier write (its
   * turn cut off by a crash, or a try whose answer was lost, now run again) counts as done, and
   * the messages that one kept are returned: they stand, and are what is sent.
   */
  async save(
    key: string,
    from: number,
    state: SessionState,
    update: string,
    now: Date,
    outbound?: Outbound[],
    order?: Ordered,
  ): Promise<Outbound[] | undefined> {
    const { data, ...rest } = state;
    const { stateId, before } = await this.write(
      key,
      from,
      update,
      {
        // Named one by one: the document is stored as made here (write), and nothing else a
        // state object happens to carry is the document's to store (the model dropped it, or,
        // for a field of the schema such as `ended`, stored it).
        flow: rest.flow,
        version: rest.version,
        step: rest.step,
        expiresAt: rest.expiresAt,
        dataSealed: this.sealer.seal(JSON.stringify(data)),
        ...this.outboundOf(outbound),
        ...orderFields(order),
        updatedAt: now,
      },
      now,
    );
    // The state that stood may not be this run's: it is read from the database next time.
    if (before) return before.outbound;
    this.remember(key, {
      seq: from + 1,
      stateId,
      state: this.knownState(rest, data),
      ...highOf(order),
      at: now.getTime(),
    });
    return undefined;
  }

  /** Ends the flow a turn read at `from` (cancelled, finished, interrupted); as save does. */
  async end(
    key: string,
    from: number,
    update: string,
    now: Date,
    outbound?: Outbound[],
    order?: Ordered,
  ): Promise<Outbound[] | undefined> {
    const { before } = await this.write(
      key,
      from,
      update,
      {
        ended: true,
        // The schema's defaults, which the model gave a state that ends a flow.
        flow: "",
        version: 0,
        step: "",
        dataSealed: "",
        expiresAt: now,
        updatedAt: now,
        ...this.outboundOf(outbound),
        ...orderFields(order),
      },
      now,
    );
    if (before) return before.outbound;
    this.remember(key, { seq: from + 1, ...highOf(order), at: now.getTime() });
    return undefined;
  }

  private outboundOf(outbound: Outbound[] | undefined): Pick<SessionDoc, "outboundSealed"> {
    return outbound ? { outboundSealed: sealOutbound(this.sealer, outbound) } : {};
  }

  /**
   * What `update`'s turn wrote for the chat with its state: undefined when it wrote none (its turn
   * was cut off before, or changed no state), when the messages are not kept (written by an earlier
   * version, or swept), or when no configured key opens them.
   */
  async committed(key: string, update: string): Promise<Committed | undefined> {
    const doc = await this.model.findOne({ key, update }, { seq: 1, ended: 1, outboundSealed: 1 }).lean();
    const outbound = doc ? keptOutbound(this.sealer, doc.outboundSealed) : undefined;
    return doc && outbound ? { seq: doc.seq, ended: doc.ended === true, outbound } : undefined;
  }

  /**
   * Writes the state after `from`: its stateId (see stateIdOf), and `before` when this update's
   * own state stood there already.
   */
  private async write(
    key: string,
    from: number,
    update: string,
    fields: Partial<SessionDoc>,
    now: Date,
  ): Promise<{ stateId: string; before?: { outbound?: Outbound[] } }> {
    const seq = from + 1;
    const _id = sessionId(key, seq);
    try {
      await this.inserts.insert({ ...fields, _id, key, seq, update });
      return { stateId: stateIdOf({ _id, update }) };
    } catch (error) {
      // Whatever this process thought the chat's state was, it does not know now.
      this.known.delete(key);
      if (!isDuplicateKeyError(error)) throw error;
      const there = await this.model.findOne({ key, seq }).lean();
      if (!there || there.update !== update) {
        this.sharedNow(key, now);
        throw new SessionConflict(key);
      }
      // This update's own state, landed on a try whose answer was lost (or written by another
      // run of it): that one stands, with the messages it kept, whatever this run decided.
      return {
        stateId: stateIdOf(there),
        before: { outbound: keptOutbound(this.sealer, there.outboundSealed) },
      };
    }
  }

  /**
   * Whether the chat's state moved past `seq` by another update's turn: its newest state is later
   * than `seq`, and is not the one `update` itself wrote over it.
   */
  async movedOn(key: string, seq: number, update: string): Promise<boolean> {
    const newest = await this.model.findOne({ key }, { seq: 1, update: 1 }).sort({ seq: -1 }).lean();
    if (!newest || newest.seq <= seq) return false;
    return !(newest.seq === seq + 1 && newest.update === update);
  }

  /**
   * Whether every state of the chat after `seq` was written by an update the platform received
   * before the one at `order`, and there is at least one. For a cut-off update whose turn started
   * from a state taken from memory (LoadedSession.unchecked): the chat had moved on before it
   * came, so it was not overtaken by the person's next message, and it answers the chat's state
   * now. A state without an order (another channel, an older version) counts as later.
   */
  async onlyEarlierAfter(key: string, seq: number, order: number): Promise<boolean> {
    const later = await this.model.find({ key, seq: { $gt: seq } }, { order: 1 }).lean();
    return later.length > 0 && later.every((doc) => typeof doc.order === "number" && doc.order < order);
  }

  /** Whether `update` wrote any state of the chat still kept (the sweep keeps the newest). */
  async wroteAny(key: string, update: string): Promise<boolean> {
    return (await this.model.exists({ key, update })) !== null;
  }

  /** Forgets a chat's flow outright, outside any turn (a test resetting a speaker). */
  async clear(key: string): Promise<void> {
    this.known.delete(key);
    await this.model.deleteMany({ key });
  }

  /** Reseals live sessions under the current key (npm run keys:rotate). */
  async reseal(): Promise<number> {
    return (
      (await resealField(this.model, "dataSealed", this.sealer)) +
      (await resealField(this.model, "outboundSealed", this.sealer))
    );
  }

  /** Sessions saved before data was sealed carry it in plaintext (`data`) and still resume. */
  private dataOf(doc: SessionDoc): Record<string, unknown> | undefined {
    try {
      if (typeof doc.dataSealed === "string" && doc.dataSealed !== "") {
        return JSON.parse(this.sealer.open(doc.dataSealed)) as Record<string, unknown>;
      }
      const legacy = (doc as { data?: unknown }).data;
      return typeof legacy === "object" && legacy !== null ? (legacy as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Deletes what no turn reads any more: every state but a chat's newest. The newest of a flow that
   * expired a while ago keeps no data (an abandoned flow leaves no trace of what was typed) but
   * stays, as an ended state, so the chat's sequence never starts again at 0 under a turn that
   * read the old number.
   */
  async sweep(now: Date): Promise<number> {
    const stale: SessionDoc["_id"][] = [];
    const emptied: SessionDoc["_id"][] = [];
    let newestKey: string | undefined;
    const cursor = this.model
      .find({}, { key: 1, seq: 1, expiresAt: 1, ended: 1, updatedAt: 1 })
      .sort({ key: 1, seq: -1 })
      .lean()
      .cursor();
    for await (const doc of cursor as AsyncIterable<SessionDoc>) {
      const newest = doc.key !== newestKey;
      newestKey = doc.key;
      // A state written over lately stays a while: another process may remember the one before
      // it, and finds it moved on by this one's id (see current).
      if (!newest) {
        if (doc.updatedAt.getTime() + KEEP_RECENT_MS <= now.getTime()) stale.push(doc._id);
      } else if (!doc.ended && doc.expiresAt.getTime() + KEEP_ENDED_MS <= now.getTime())
        emptied.push(doc._id);
    }
    let changed = 0;
    for (let i = 0; i < stale.length; i += 500) {
      changed += (await this.model.deleteMany({ _id: { $in: stale.slice(i, i + 500) } })).deletedCount;
    }
    for (let i = 0; i < emptied.length; i += 500) {
      const result = await this.model.updateMany(
        { _id: { $in: emptied.slice(i, i + 500) } },
        { $set: { ended: true, dataSealed: "", flow: "", step: "" }, $unset: { data: 1, outboundSealed: 1 } },
      );
      changed += result.modifiedCount;
    }
    const forgotten = await this.model.updateMany(
      { outboundSealed: { $exists: true }, updatedAt: { $lt: new Date(now.getTime() - KEEP_OUTBOUND_MS) } },
      { $unset: { outboundSealed: 1 } },
    );
    return changed + forgotten.modifiedCount;
  }
}
