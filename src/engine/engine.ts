import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { isDatabaseError } from "../db/errors.js";
import { ROLES, type Role } from "../domain/people/roles.js";
import type { Speaker } from "../domain/people/service.js";
import { cleanInput, parseCommand } from "../text/normalize.js";
import { t } from "../text/vi.js";
import { choiceRetry, matchChoice } from "./choices.js";
import { CommandRegistry, type Command } from "./command.js";
import { CAPABILITIES } from "./capabilities.js";
import type { Decisions } from "./decisions.js";
import { defineFlow, type AnyFlow, type FlowData, type FlowStep } from "./flow.js";
import type { Inbox, RecordedUpdate } from "./inbox.js";
import { KeyedQueue } from "./keyed-queue.js";
import type { MessageLinks } from "./links.js";
import type { Attachment, Choice, Inbound, Outbound, Subject } from "./message.js";
import type { Outbox } from "./outbox.js";
import {
  SessionConflict,
  type Committed,
  type LoadedSession,
  type Sessions,
  type SessionState,
} from "./session.js";
import { Turn, type EngineServices } from "./turn.js";

/** What the person wrote in answer to a message about a subject. */
export interface ReplyMessage {
  text: string;
  attachments: Attachment[];
}
export type ReplyHandler = (turn: Turn, subject: Subject, message: ReplyMessage) => void | Promise<void>;
export type FreeTextHandler = (turn: Turn) => void | Promise<void>;
/** Handles `/start PAYLOAD` (a deep link or an invite code); true when it recognised the payload. */
export type StartPayloadHandler = (turn: Turn, payload: string) => boolean | Promise<boolean>;

/** What a feature (plans, feedback, models…) plugs into the engine. */
export interface Feature {
  name: string;
  commands?: Command[];
  flows?: AnyFlow[];
  /** Handles a message replying to one the bot sent about a subject (a reminder about a task). */
  replyHandlers?: Partial<Record<Subject["kind"], ReplyHandler>>;
  /** Free text outside any flow, per role. */
  freeText?: Partial<Record<Role, FreeTextHandler>>;
  startPayload?: StartPayloadHandler;
}

/** See Engine.onTurn. */
export type TurnListener = (inbound: Inbound, speaker: Speaker, peopleChanged: boolean) => void;

export interface EngineStores {
  inbox: Inbox;
  outbox: Outbox;
  sessions: Sessions;
  decisions: Decisions;
  links: MessageLinks;
}

/**
 * "deferred": the database failed while the turn ran, and kept failing through a few quick retries;
 * the update stays recorded and unhandled, and recovery replays it once its claim lapses.
 * "stale": a pressed button whose step token the session has moved past; nothing was done. Nothing
 * was recorded either, unless the press was found stale only on a re-read (another instance took
 * the same keyboard first): its record is then marked handled, and a redelivery of it is a
 * "duplicate".
 */
export type HandleOutcome = "handled" | "duplicate" | "failed" | "deferred" | "stale";

export interface HandleOptions {
  /**
   * The platform delivers the update again until the caller answers it, and the caller answers
   * only once `handle` resolves (Telegram: a webhook's non-2xx answer, an offset not confirmed).
   * A step of a flow is then handled without writing its record first: its turn's state, written
   * with its messages, is its one commit, and `handle` resolves only once those messages stand
   * (sent, or written to wait). A crash before that leaves the update unanswered, and its
   * redelivery finds the state it wrote (handledBefore). `handle` throws when it could not get
   * that far (the database failing through every retry): the caller must not answer.
   */
  platformRetries?: boolean;
}

/** Told the promise of a turn handled without a record: whether its messages stand (see HandleOptions). */
type Settles = (settled: Promise<boolean>) => void;

/** A turn handled without a record could not reach the point where the platform may be answered. */
export class NotHandledYet extends Error {
  constructor(readonly dedupeKey: string) {
    super(`update ${dedupeKey} not handled yet; the platform is to deliver it again`);
    this.name = "NotHandledYet";
  }
}

/**
 * Waits before each in-place retry of a turn the database cut off. A fault that lasts a moment (a
 * dropped connection, a failover) is over by then; a longer one is left to recovery.
 */
const TURN_RETRY_MS = [100, 500, 2_000];
/**
 * How long a turn may have run for its replies still to be handed over unwritten (a sixth of the
 * record's claim, inbox CLAIM_MS): they are then sent or written well before it lapses.
 */
const UNWRITTEN_WITHIN_MS = 10_000;
/**
 * How long an update handled without a record and cut off by the database waits here for the
 * chat's next message to run it first (Engine.retryDeferred): well inside the time the sweep keeps
 * a state written over (10 minutes), so the run's compare-and-set meets any state written since.
 */
const RECORDLESS_HELD_MS = 5 * 60_000;
/** Turns run again because another instance moved the chat on first; more means a storm, not a race. */
const MAX_CONFLICTS = 5;

const CANCEL = new Set(["huy", "cancel"]);

const str = (value: unknown, max = 256): string =>
  typeof value === "string" ? value.slice(0, max) : typeof value === "number" ? String(value) : "";

/**
 * Whatever an adapter handed over, the engine works on strings and known shapes only: a field of
 * the wrong type (an object like {"$gt": ""} where a platform sends text) becomes empty instead of
 * reaching a query or throwing, and long ids and names are cut.
 */
function sanitize(raw: Inbound): Inbound | undefined {
  const chatId = str(raw.chatId);
  const senderId = str(raw.senderId);
  const dedupeKey = str(raw.dedupeKey, 512);
  if (!chatId || !senderId || !dedupeKey) return undefined;
  const attachments = (Array.isArray(raw.attachments) ? raw.attachments : [])
    .filter((a): a is Attachment => Boolean(a) && typeof a === "object" && typeof a.ref === "string")
    .map((a) => ({
      kind: (["photo", "document", "sticker"] as const).find((k) => k === a.kind) ?? ("other" as const),
      ref: a.ref.slice(0, 2048),
      ...(typeof a.name === "string" ? { name: a.name.slice(0, 255) } : {}),
      ...(typeof a.mimeType === "string" ? { mimeType: a.mimeType.slice(0, 100) } : {}),
      ...(typeof a.size === "number" ? { size: a.size } : {}),
    }))
    .slice(0, 20);
  const senderName = cleanInput(str(raw.senderName, 1000), 200);
  const replyTo = str(raw.replyToMessageId);
  const choice = str(raw.choice, 128);
  const step = typeof raw.step === "number" && Number.isSafeInteger(raw.step) ? raw.step : undefined;
  const order = typeof raw.order === "number" && Number.isSafeInteger(raw.order) ? raw.order : undefined;
  return {
    channel: raw.channel,
    chatId,
    chatType: raw.chatType === "group" ? "group" : "private",
    senderId,
    ...(senderName ? { senderName } : {}),
    messageId: str(raw.messageId),
    // Whole: a citizen's long complaint must never be cut here unseen; the flows state their limits.
    text: cleanInput(str(raw.text, 100_000), 100_000),
    attachments,
    ...(replyTo ? { replyToMessageId: replyTo } : {}),
    ...(choice ? { choice } : {}),
    ...(choice && step !== undefined ? { step } : {}),
    dedupeKey,
    ...(order !== undefined ? { order } : {}),
    receivedAt:
      raw.receivedAt instanceof Date && !Number.isNaN(raw.receivedAt.getTime()) ? raw.receivedAt : new Date(),
  };
}

/** Pictures and files carry content; stickers and unknown kinds do not (they are no evidence). */
function contentOf(inbound: Inbound): Attachment[] {
  return inbound.attachments.filter((a) => a.kind === "photo" || a.kind === "document");
}

/** The command an update carries: typed, or a button whose value is one ("/danhgia PA-…"). */
function commandOf(inbound: Inbound): ReturnType<typeof parseCommand> {
  return parseCommand(inbound.choice?.startsWith("/") ? inbound.choice : inbound.text);
}

/** Whether there is anything to read in an update (not a sticker, a location, an unknown kind). */
function readable(inbound: Inbound): boolean {
  return Boolean(inbound.text || inbound.choice || contentOf(inbound).length > 0);
}
/** How long after a reminder a plain message on a platform without reply-to still answers it. */
const REPLY_WINDOW_MS = 48 * 3_600_000;
const WHICH_FLOW = "chonviec";

/**
 * The platform-free core. Every channel hands it an Inbound; it records the update, works out who
 * is speaking and what they want, runs a command or the next step of a flow, and writes the
 * answers to the outbox. It never talks to a platform.
 */
export class Engine {
  readonly commands = new CommandRegistry();
  private readonly flows = new Map<string, AnyFlow>();
  private readonly replyHandlers = new Map<string, ReplyHandler>();
  private readonly freeText = new Map<Role, FreeTextHandler>();
  /** Tried in order by /start with a payload. */
  readonly startHandlers: StartPayloadHandler[] = [];
  private readonly queue = new KeyedQueue();
  private readonly enqueuedListeners: ((channels: Set<string>) => void)[] = [];
  private readonly outcomeListeners: ((inbound: Inbound, outcome: HandleOutcome) => void)[] = [];
  private readonly turnListeners: TurnListener[] = [];
  private readonly instanceId = randomUUID();
  /** Updates this process left to recovery, per chat, in order: the chat's next message runs them first. */
  private readonly deferred = new Map<
    string,
    {
      inbound: Inbound;
      loaded: LoadedSession;
      superseded: boolean;
      /** Handled without a record (HandleOptions), since `since` (the clock's ms). */
      recordless?: { since: number };
      /** Its turn's check of a state from memory passed (Engine.process): the state was the chat's. */
      checked?: true;
    }[]
  >();
  /** "Handled" marks waiting for their turns' replies to be written (see handleRecorded). */
  private readonly marking = new Set<Promise<void>>();

  constructor(
    private readonly stores: EngineStores,
    readonly services: EngineServices,
  ) {
    this.use({ name: "engine", flows: [this.whichSubjectFlow()] });
  }

  /** "Which task are you answering?" — for a message that could answer several recent reminders. */
  private whichSubjectFlow(): AnyFlow {
    return defineFlow<{ message: ReplyMessage; options: Choice[]; picked?: string }>({
      name: WHICH_FLOW,
      version: 1,
      roles: ROLES,
      ttlMinutes: 60,
      first: "pick",
      initial: () => ({ message: { text: "", attachments: [] }, options: [] }),
      steps: {
        pick: {
          prompt: () => t.engine.whichSubject,
          choices: (data) => data.options,
          accept: (answer, data) => ({ data: { ...data, picked: answer.choice?.value } }),
        },
      },
      finish: async (data, turn) => {
        if (data.picked)
          await this.replyHandlers.get("task")?.(turn, { kind: "task", id: data.picked }, data.message);
      },
    });
  }

  use(feature: Feature): this {
    for (const command of feature.commands ?? []) this.commands.add(command);
    for (const flow of feature.flows ?? []) {
      if (this.flows.has(flow.name)) throw new Error(`flow ${flow.name} registered twice (${feature.name})`);
      this.flows.set(flow.name, flow);
    }
    for (const [kind, handler] of Object.entries(feature.replyHandlers ?? {})) {
      this.replyHandlers.set(kind, handler);
    }
    for (const [role, handler] of Object.entries(feature.freeText ?? {}) as [Role, FreeTextHandler][]) {
      this.freeText.set(role, handler);
    }
    if (feature.startPayload) this.startHandlers.push(feature.startPayload);
    return this;
  }

  /** Called with the channels that have new outbox messages, so their dispatchers wake up. */
  onEnqueued(listener: (channels: Set<string>) => void): void {
    this.enqueuedListeners.push(listener);
  }

  /**
   * Handles one update exactly once. Messages of one chat are handled in order; different chats
   * run concurrently.
   */
  async handle(raw: Inbound, options: HandleOptions = {}): Promise<HandleOutcome> {
    const inbound = sanitize(raw);
    // Without a chat and a sender there is nobody to answer: nothing to do, nothing to retry.
    if (!inbound) return "duplicate";
    // The chat's queue is joined before the inbox write, so messages handed in together are
    // handled in the order they came, whichever write finishes first.
    const key = this.sessionKey(inbound);
    // Redelivered until answered, and placed in the platform's order: see HandleOptions.
    const order = options.platformRetries === true ? inbound.order : undefined;
    let settled: Promise<boolean> | undefined;
    /** Handled without a record, from this state. */
    let recordless: LoadedSession | undefined;
    const settles: Settles = (promise) => (settled = promise);
    const outcome = await this.queue.run(key, async () => {
      // A message of this chat that the database cut off comes first: this one answers what
      // that one leaves (else it would answer the same step, and that answer would be lost).
      await this.retryDeferred(key);
      const now = this.services.clock.now();
      // Loaded before the record, which keeps it: a replay must start where this turn started.
      // As this process last left it, once a read by `_id` finds no state after it: a flow's
      // effects (a ticket, a report) are keyed by the state they answer and done before the state
      // is written, and a state another instance has moved on from would do them a second time
      // under another key. Where the platform orders its updates, a step of a flow skips that
      // read (Sessions.recall): its next state is a compare-and-set, its effects wait for the
      // same check (process), and recovery can tell whether such a state was already old when
      // the update came (recoverAbandoned).
      let loaded =
        inbound.order !== undefined
          ? await this.stores.sessions.recall(key, now)
          : await this.stores.sessions.current(key, now);
      // A button answers only the state its keyboard was sent at: an old keyboard left on an
      // abandoned question, or a second tap before our edit removed it, finds the session moved
      // on. Checked against the state read anyway, so it costs nothing; such a press is not
      // recorded (a redelivery of a press that counted is found in the inbox: a duplicate).
      // A state from memory is checked first: the keyboard may be another instance's newer one.
      if (inbound.step !== undefined && inbound.step !== loaded.seq && loaded.unchecked)
        loaded = await this.stores.sessions.current(key, now);
      // Not after the chat's newest state in the platform's order: delivered again after its
      // turn wrote that state, or one before it (checked before a press is found stale, which a
      // press whose own turn moved the chat on would be).
      if (order !== undefined && loaded.order !== undefined && order <= loaded.order) {
        const before = await this.handledBefore(inbound, key, settles);
        if (before) return before;
      }
      if (inbound.step !== undefined && inbound.step !== loaded.seq) {
        return (await this.stores.inbox.isRecorded(inbound.dedupeKey)) ? "duplicate" : "stale";
      }
      if (order !== undefined && this.goesWithoutRecord(inbound, loaded)) {
        recordless = loaded;
        const done = await this.handleRecorded(inbound, loaded, { recordedAt: now, recordless: settles });
        if (done === "deferred" && (await this.recordDeferred(inbound, key, now))) recordless = undefined;
        return done;
      }
      const { state, seq, stateId, unchecked } = loaded;
      return (await this.stores.inbox.record(inbound, now, state ?? null, seq, stateId, unchecked))
        ? this.handleRecorded(inbound, loaded, { recordedAt: now })
        : ("duplicate" as const);
    });
    for (const listener of this.outcomeListeners) listener(inbound, outcome);
    if (recordless && outcome === "deferred") throw new NotHandledYet(inbound.dedupeKey);
    if (settled && !(await settled) && !(recordless && (await this.recordUnsettled(inbound, recordless))))
      throw new NotHandledYet(inbound.dedupeKey);
    return outcome;
  }

  /**
   * A step handled without a record whose state stands but one of whose messages could not be
   * written (the database failing): recorded now, if the database takes it, for recovery to send
   * what the turn kept (true), as it does for a recorded update cut off after its commit. Else the
   * platform delivers it again, and its redelivery does the same (handledBefore).
   */
  private recordUnsettled(inbound: Inbound, loaded: LoadedSession): Promise<boolean> {
    return this.recordLate(inbound, this.services.clock.now(), loaded);
  }

  /**
   * Records a step handled without a record, late, from the state `from` (see recordUnsettled,
   * recordDeferred): false when the database refuses it or a record is there already, and the
   * platform is then left to deliver it again.
   */
  private async recordLate(
    inbound: Inbound,
    now: Date,
    from: LoadedSession,
    unchecked?: true,
  ): Promise<boolean> {
    const { state, seq, stateId } = from;
    try {
      return await this.stores.inbox.record(inbound, now, state ?? null, seq, stateId, unchecked);
    } catch (error) {
      this.services.log.warn(
        { err: error, dedupeKey: inbound.dedupeKey },
        "engine: could not record an update handled without a record; the platform is to deliver it again",
      );
      return false;
    }
  }

  /**
   * A step handled without a record that the database cut off through every retry: recorded now,
   * if the database takes it, with the state its last run started from (the chat's newest, read,
   * after another instance's write met it), and left to recovery like any recorded update (true);
   * the platform may be answered. A state from memory is recorded as unchecked unless the turn's
   * check passed, as the check's note would say. Else the platform delivers it again, and it is
   * held here meanwhile (retryDeferred), in case the chat's next message comes first.
   */
  private async recordDeferred(inbound: Inbound, key: string, now: Date): Promise<boolean> {
    const entry = this.deferred.get(key)?.find((e) => e.inbound.dedupeKey === inbound.dedupeKey);
    if (!entry) return false;
    const unchecked = entry.loaded.unchecked && !entry.checked ? (true as const) : undefined;
    if (!(await this.recordLate(inbound, now, entry.loaded, unchecked))) return false;
    delete entry.recordless;
    return true;
  }

  /**
   * Whether an update the platform delivers again until answered may be handled without a record:
   * a step of the flow it arrives in (an answer, a press, an attachment), or, outside any flow, a
   * command anyone may use that only opens one (Command.opens). Either writes the chat's next
   * state, which is its commit; nothing else it does outlives the turn but the speaker's account,
   * written once whoever writes it. Any other command, and anything unreadable, is recorded first.
   */
  private goesWithoutRecord(inbound: Inbound, loaded: LoadedSession): boolean {
    const command = commandOf(inbound);
    if (loaded.state) return !command && readable(inbound);
    if (!command || CANCEL.has(command.name)) return false;
    const found = this.opener(command.name);
    // Open to every role: a refusal writes no state, and its redelivery would be run again, by
    // then perhaps for a speaker given the role since.
    return (
      found !== undefined &&
      ROLES.every((role) => found.roles.includes(role)) &&
      (!found.channels || found.channels.includes(inbound.channel))
    );
  }

  /** The command of that name when it does nothing but open a flow (Command.opens). */
  private opener(name: string): Command | undefined {
    const found = this.commands.find(name);
    return found?.opens !== undefined ? found : undefined;
  }

  /**
   * A message that most often comes from someone the bot has never seen: the Start button's
   * /start, or a command that opens a flow, in a private chat that never kept a state. Only a
   * hint for filing the speaker (SpeakerInput.newChat): anything else in such a chat (an
   * official's commands, a citizen's /tracuu; neither keeps a state) keeps the read that spares
   * a known account a write.
   */
  private firstLike(inbound: Inbound, loaded: LoadedSession): boolean {
    if (loaded.seq !== 0 || inbound.chatType !== "private") return false;
    const command = commandOf(inbound);
    return command !== undefined && (command.name === "start" || this.opener(command.name) !== undefined);
  }

  /**
   * For an update placed, in the platform's order, no later than the chat's newest state (see
   * HandleOptions): "duplicate" when it was recorded (handled, or left to recovery), or when its
   * turn wrote a state (a redelivery after a crash before the platform's answer): what that turn
   * decided is sent again, as recovery sends it (sendCommitted; what went already collides with
   * itself). Undefined for an update never handled (the platform delivered it late): it is
   * handled as any other.
   */
  private async handledBefore(
    inbound: Inbound,
    key: string,
    settles: Settles,
  ): Promise<HandleOutcome | undefined> {
    if (await this.stores.inbox.isRecorded(inbound.dedupeKey)) return "duplicate";
    const commit = await this.committed(key, inbound.dedupeKey);
    if (!commit) {
      // Its state stands, but what it decided is no longer kept with it (long past): it took
      // effect, and running it again would answer a later question, or, a command opening a
      // flow, throw away the flow the person is in now.
      if (!(await this.stores.sessions.wroteAny(key, inbound.dedupeKey))) return undefined;
      this.services.log.warn(
        { dedupeKey: inbound.dedupeKey },
        "engine: an update delivered again long after its turn wrote its state; its messages are no longer kept",
      );
      this.stores.inbox.noteHandledSoon(inbound, this.services.clock.now());
      return "duplicate";
    }
    this.services.log.warn(
      { dedupeKey: inbound.dedupeKey },
      "engine: an update delivered again after its turn wrote its state; sending what it decided",
    );
    await this.sendCommitted(inbound, key, commit, settles);
    return "duplicate";
  }

  /** Told the outcome of every update handed in (for metrics). */
  onOutcome(listener: (inbound: Inbound, outcome: HandleOutcome) => void): void {
    this.outcomeListeners.push(listener);
  }

  /**
   * Told of every turn that ran to its end, with the speaker as read at its start (an adapter's
   * chores use it instead of reading who is speaking again) and whether people or accounts were
   * written here while it ran (then the turn may have changed the speaker: read them again).
   */
  onTurn(listener: TurnListener): void {
    this.turnListeners.push(listener);
  }

  /** Handles updates whose handling was cut off by a crash; run at start and now and then. */
  async recoverAbandoned(): Promise<number> {
    // This process's own held marks first: what it has handled is not taken for abandoned.
    await this.writeHeldMarks();
    let count = 0;
    // An update this pass took once is not claimed again by it: one it could not settle (the
    // database failing) would come back first each time, and take another of its attempts.
    const taken = new Set<string>();
    for (;;) {
      const recorded = await this.stores.inbox.claimAbandoned(
        this.services.clock.now(),
        this.instanceId,
        taken,
      );
      if (!recorded) return count;
      const { inbound } = recorded;
      taken.add(inbound.dedupeKey);
      const key = this.sessionKey(inbound);
      await this.queue.run(key, async () => {
        const { clock, log } = this.services;
        if (recorded.exhausted) {
          // Tried too often, but its state may stand: then what it decided is sent, not the apology.
          if (await this.recoverCommitted(inbound, key)) return;
          log.error({ dedupeKey: inbound.dedupeKey }, "engine: an update failed on every try; given up");
          await this.fail(inbound, new Error("abandoned after repeated failures"));
          return;
        }
        // Whether the person went on: read from the chat's state sequence, which every instance
        // shares (ids made by two processes do not say which came first); older records without
        // a sequence number fall back to the order of the inbox's ids.
        let superseded =
          recorded.seq !== undefined
            ? await this.stores.sessions.movedOn(key, recorded.seq, inbound.dedupeKey)
            : await this.stores.inbox.supersededAfter(recorded);
        // Its turn started from a state this process remembered (Sessions.recall), which another
        // instance may have moved on from before the update came: then no later message took its
        // place, and it answers the chat's state as it is now. Told apart by the platform's order.
        const stale =
          superseded &&
          recorded.unchecked === true &&
          recorded.seq !== undefined &&
          inbound.order !== undefined &&
          !(await this.stores.inbox.wasChecked(inbound.dedupeKey)) &&
          (await this.stores.sessions.onlyEarlierAfter(key, recorded.seq, inbound.order));
        if (stale) superseded = false;
        if (superseded && !(await this.tookEffect(key, recorded))) {
          // The person went on, and their next message answered the same state this one did
          // (this turn never saved its own): that message took its place, so it is dropped.
          log.warn({ dedupeKey: inbound.dedupeKey }, "engine: a cut-off update was overtaken; not replayed");
          await this.stores.inbox.markHandled(inbound.dedupeKey, clock.now());
          return;
        }
        log.warn({ dedupeKey: inbound.dedupeKey }, "engine: resuming an update cut off by a crash");
        // Records written before sessions had sequence numbers replay their recorded state over
        // the chat's sequence as it is now (as that version did); older ones, and one whose
        // remembered state was already old (above), from the state as it is.
        const current = await this.stores.sessions.read(key, clock.now());
        const loaded =
          recorded.session === undefined || stale
            ? current
            : {
                state: recorded.session ?? undefined,
                seq: recorded.seq ?? current.seq,
                ...(recorded.stateId ? { stateId: recorded.stateId } : {}),
                // The chat's high-water as it is: a state written from here must not lower it.
                ...(current.order !== undefined ? { order: current.order } : {}),
              };
        // Overtaken after it took effect: its notices are sent again, its state is not rewritten.
        await this.handleRecorded(inbound, loaded, { superseded });
      });
      count += 1;
    }
  }

  /**
   * Sends again what a turn wrote with its state (SessionDoc.outboundSealed), as a replay of it
   * would: what was written already collides with itself, and the speaker's replies are left out
   * when a later message of theirs moved the chat past that state (see leftForSuperseded).
   */
  private async sendCommitted(
    inbound: Inbound,
    key: string,
    commit: Committed,
    recordless?: Settles,
  ): Promise<void> {
    const outbound = await this.keptToSend(inbound, key, commit);
    // A message this process still holds unwritten (from the turn's first run) settles later: the
    // update is marked only once it stands, or a refused write would lose it with nobody to recover it.
    const { settled } = await this.stores.outbox.enqueueTurn(outbound);
    this.announce(outbound.map((o) => o.to.channel));
    if (recordless) this.noteWhenSettled(inbound, settled, recordless);
    else if (settled) this.markWhenSettled(inbound.dedupeKey, settled, false);
    else await this.stores.inbox.markHandled(inbound.dedupeKey, this.services.clock.now());
  }

  /**
   * For a turn handled without a record: hands its caller whether its messages stand, and once
   * they do, records it as handled with the marks of the next few seconds (Inbox.noteHandledSoon).
   */
  private noteWhenSettled(inbound: Inbound, settled: Promise<boolean> | undefined, settles: Settles): void {
    const { inbox } = this.stores;
    if (!settled) {
      inbox.noteHandledSoon(inbound, this.services.clock.now());
      return;
    }
    settles(
      settled.then((durable) => {
        if (durable) inbox.noteHandledSoon(inbound, this.services.clock.now());
        return durable;
      }),
    );
  }

  /**
   * What of a turn's kept messages goes out when they are sent again: all of them, unless a later
   * message of the speaker's moved the chat past the state the turn wrote and that state did not
   * end the flow (then the speaker's replies are left out: see leftForSuperseded). A turn that
   * ended its flow, or kept none, tells the speaker all it decided in any case.
   */
  private async keptToSend(inbound: Inbound, key: string, commit: Committed): Promise<Outbound[]> {
    const superseded =
      !commit.ended &&
      commit.seq !== undefined &&
      (await this.stores.sessions.movedOn(key, commit.seq - 1, inbound.dedupeKey));
    return superseded ? this.leftForSuperseded(inbound, commit.outbound, false) : commit.outbound;
  }

  /**
   * For an update tried too often: sends what its turn decided when it wrote its state (its
   * effects are done), and says whether the update is dealt with: false when it wrote none, or
   * when sending fails for a reason other than the database; a database that fails meanwhile
   * leaves it to a later pass (true), since an apology for a turn that took effect would be wrong.
   */
  private async recoverCommitted(inbound: Inbound, key: string): Promise<boolean> {
    const { log } = this.services;
    try {
      const commit = await this.committed(key, inbound.dedupeKey);
      if (!commit) return false;
      log.warn({ dedupeKey: inbound.dedupeKey }, "engine: sending what an update cut off by a crash decided");
      await this.sendCommitted(inbound, key, commit);
    } catch (error) {
      // Anything but the database (a message the outbox refuses, a key that no longer opens it)
      // would fail the same way each time: the update is given up with the apology, as any other.
      if (!isDatabaseError(error)) return false;
      log.warn(
        { err: error, dedupeKey: inbound.dedupeKey },
        "engine: could not send what a cut-off update decided",
      );
    }
    return true;
  }

  /** What `update`'s turn decided and kept: with the state it wrote, or as its decision (a turn with none). */
  private async committed(key: string, update: string): Promise<Committed | undefined> {
    return (await this.stores.sessions.committed(key, update)) ?? (await this.stores.decisions.read(update));
  }

  /**
   * Resolves when every update handed in so far has been handled, and marked so (for a clean
   * shutdown, and for tests that read the records).
   */
  async idle(): Promise<void> {
    await this.queue.idle();
    while (this.marking.size > 0) await Promise.all(this.marking);
    await this.writeHeldMarks();
  }

  private async writeHeldMarks(): Promise<void> {
    try {
      await this.stores.inbox.writeHeld();
    } catch (error) {
      // Unmarked, they are recovered once their claims lapse, by sending again what they decided.
      this.services.log.warn({ err: error }, "engine: could not write the held 'handled' marks");
    }
  }

  /** Resolves when every update handed in so far has run its turn (marked or not yet). */
  turnsDone(): Promise<void> {
    return this.queue.idle();
  }

  /** Runs again, in order, the updates of this chat that this process left to recovery. */
  private async retryDeferred(key: string): Promise<void> {
    const waiting = this.deferred.get(key);
    while (waiting && waiting.length > 0) {
      const [first] = waiting;
      if (!first) break;
      if (
        first.recordless
          ? await this.handledElsewhere(key, first)
          : !(await this.stores.inbox.isPending(first.inbound.dedupeKey))
      ) {
        waiting.shift();
        continue;
      }
      const { inbound, loaded, superseded, recordless } = first;
      const options = {
        remember: false,
        superseded,
        // Its platform was told to deliver it again: nobody waits for this run's messages.
        ...(recordless ? { recordless: (): void => undefined } : {}),
      };
      if ((await this.handleRecorded(inbound, loaded, options)) === "deferred") return;
      waiting.shift();
    }
    this.deferred.delete(key);
  }

  /**
   * Whether an update handled without a record and left here to wait is no longer this process's
   * to run: handled since (its platform delivered it again, here or to another instance: it is
   * recorded, or it wrote a state), or waiting so long that the state it would be run from may be
   * one the sweep has removed the chat's later states after (its compare-and-set would then pass
   * on an old state). The platform was told to deliver it again, and does.
   */
  private async handledElsewhere(
    key: string,
    entry: { inbound: Inbound; recordless?: { since: number } },
  ): Promise<boolean> {
    const { clock, log } = this.services;
    const { dedupeKey } = entry.inbound;
    if (clock.now().getTime() - (entry.recordless?.since ?? 0) >= RECORDLESS_HELD_MS) {
      log.warn({ dedupeKey }, "engine: a cut-off update held too long; left to the platform's redelivery");
      return true;
    }
    return (
      (await this.stores.inbox.isRecorded(dedupeKey)) || (await this.stores.sessions.wroteAny(key, dedupeKey))
    );
  }

  private sessionKey(inbound: Inbound): string {
    return `${inbound.channel}:${inbound.chatId}:${inbound.senderId}`;
  }

  /**
   * `recordedAt`: the update was recorded then, by this call's caller (its first run); its turn's
   * first try may hand its replies over unwritten (Outbox.enqueueTurn) while that record's claim
   * is young.
   */
  private async handleRecorded(
    inbound: Inbound,
    session: LoadedSession,
    options: { remember?: boolean; superseded?: boolean; recordedAt?: Date; recordless?: Settles } = {},
  ): Promise<HandleOutcome> {
    const { recordless } = options;
    const { clock, log } = this.services;
    const context = { dedupeKey: inbound.dedupeKey, channel: inbound.channel, senderId: inbound.senderId };
    let conflicts = 0;
    /** The last run met another update's state (SessionConflict): this one runs on the new state. */
    let conflicted = false;
    let firstTry = options.recordedAt;
    /**
     * A run's check of the state from memory passed (see process): it stays passed for the runs
     * after it on the same state (a run after a conflict starts from a state read, not remembered).
     */
    let stateChecked = false;
    const key = this.sessionKey(inbound);
    for (let attempt = 0; ; attempt += 1) {
      try {
        // Run again (a retry, a deferred update, a replay): if an earlier run wrote its state, its
        // effects are done, and what it decided is sent instead (see recoverAbandoned).
        if (firstTry === undefined) {
          const commit = await this.committed(key, inbound.dedupeKey);
          if (commit) {
            if (conflicted)
              log.warn(
                context,
                "engine: a replayed update had already taken its step; sending what it decided",
              );
            await this.sendCommitted(inbound, key, commit, recordless);
            return "handled";
          }
        }
        if (conflicted) {
          if (await this.stores.sessions.wroteAny(key, inbound.dedupeKey)) {
            // This update already answered a later state (its run again after an earlier
            // conflict, cut off by a crash before it was marked, by a version that did not keep
            // its messages with it): applying it again would answer the same thing twice.
            log.warn(context, "engine: a replayed update had already taken its step; not applied again");
            if (recordless) this.stores.inbox.noteHandledSoon(inbound, clock.now());
            else await this.stores.inbox.markHandled(inbound.dedupeKey, clock.now());
            return "handled";
          }
          // Another instance took a step of this chat first: this message answers the new state,
          // and its record says so, or a replay after a crash would take it as overtaken.
          log.info({ ...context, conflicts }, "engine: the chat moved on under this turn; running it again");
          session = await this.stores.sessions.read(key, clock.now());
          if (!recordless)
            await this.stores.inbox.rerecord(inbound, session.state ?? null, session.seq, session.stateId);
          // Only now: a database failing before this is retried from the re-read, not from the old state.
          conflicted = false;
        }
        // A press answers only the state its keyboard was sent at (see handle), not a newer one
        // found at the write (another instance's) or by recovery.
        if (!options.superseded && inbound.step !== undefined && inbound.step !== session.seq) {
          if (!recordless) await this.stores.inbox.markHandled(inbound.dedupeKey, clock.now());
          return "stale";
        }
        // A turn is safe to run again from the same state: every effect is keyed by the update.
        const unwritten = firstTry;
        firstTry = undefined;
        const { settled, committed } = await this.process(
          inbound,
          session,
          options.superseded ?? false,
          unwritten,
          recordless !== undefined,
          () => (stateChecked = true),
        );
        if (recordless) {
          // Not recorded: its state is its commit (a step of a flow always writes one).
          this.noteWhenSettled(inbound, settled, recordless);
        } else if (settled === undefined && committed) {
          // Its state (or its decision) stands with its messages: the mark goes with the others of
          // the next few seconds, and a crash before them costs recovery a resend of messages that
          // collide.
          this.stores.inbox.markHandledSoon(inbound.dedupeKey, clock.now());
        } else if (settled === undefined) {
          await this.stores.inbox.markHandled(inbound.dedupeKey, clock.now());
        } else {
          // Replies handed over unwritten: the update is marked handled once they are written
          // (sent, or put to wait), and left unmarked, to be recovered, if one cannot be. The
          // chat's next message need not wait for that.
          this.markWhenSettled(inbound.dedupeKey, settled, committed);
        }
        return "handled";
      } catch (error) {
        if (error instanceof SessionConflict && conflicts < MAX_CONFLICTS) {
          // Dealt with at the top of the loop, where a database failing is retried like any other.
          conflicts += 1;
          attempt -= 1;
          conflicted = true;
          continue;
        }
        if (isDatabaseError(error)) {
          const wait = TURN_RETRY_MS[attempt];
          if (wait !== undefined) {
            log.warn(
              { err: error, ...context, attempt: attempt + 1 },
              "engine: database failed in a turn; retrying",
            );
            await sleep(wait);
            continue;
          }
          // Saying "error" now would be wrong: the turn will be done, by recovery. Marking it
          // failed would lose it (a status change without its notice, a report never saved).
          log.error({ err: error, ...context }, "engine: database failed in a turn; left for recovery");
          if (options.remember !== false) {
            const superseded = options.superseded ?? false;
            this.deferred.set(key, [
              ...(this.deferred.get(key) ?? []),
              {
                inbound,
                loaded: session,
                superseded,
                ...(recordless ? { recordless: { since: clock.now().getTime() } } : {}),
                ...(stateChecked ? { checked: true as const } : {}),
              },
            ]);
          }
          return "deferred";
        }
        log.error({ err: error, ...context }, "engine: handler failed");
        return this.fail(inbound, error, recordless !== undefined);
      }
    }
  }

  /** `committed`: see process; the mark is then held (markHandledSoon), else written at once. */
  private markWhenSettled(dedupeKey: string, settled: Promise<boolean>, committed: boolean): void {
    const { clock, log } = this.services;
    const marking: Promise<void> = settled
      .then(async (durable) => {
        if (!durable) {
          log.warn({ dedupeKey }, "engine: a reply could not be written; the update is left for recovery");
          return;
        }
        if (committed) this.stores.inbox.markHandledSoon(dedupeKey, clock.now());
        else await this.stores.inbox.markHandled(dedupeKey, clock.now());
      })
      .catch((error: unknown) => {
        // Unmarked, it is replayed once its claim lapses: its replies stand, and collide.
        log.warn({ err: error, dedupeKey }, "engine: could not mark an update handled; left for recovery");
      })
      .finally(() => this.marking.delete(marking));
    this.marking.add(marking);
  }

  /** A turn that threw for a reason other than the database: the person is told, the update kept as failed. */
  private async fail(inbound: Inbound, error: unknown, recordless = false): Promise<HandleOutcome> {
    const { clock, log } = this.services;
    try {
      await this.stores.outbox.enqueue([
        {
          to: { channel: inbound.channel, chatId: inbound.chatId },
          text: t.engine.internalError,
          dedupeKey: `${inbound.dedupeKey}#error`,
        },
      ]);
      this.announce([inbound.channel]);
      if (recordless) await this.stores.inbox.recordFailed(inbound, String(error), clock.now());
      else await this.stores.inbox.markFailed(inbound.dedupeKey, String(error), clock.now());
    } catch (inner) {
      // The database is gone too; the update stays "received" and recovery will try again.
      log.error({ err: inner, dedupeKey: inbound.dedupeKey }, "engine: could not record the failure");
      // One handled without a record has none to stay: its platform is to deliver it again.
      if (recordless) throw new NotHandledYet(inbound.dedupeKey);
    }
    return "failed";
  }

  /**
   * Whether an update cut off and since overtaken had done its part: a turn in a flow did if it
   * wrote the chat's next state; a turn outside any flow is always taken up again (what it
   * decided is sent, if it got that far; else it runs again). One recorded late that opened a
   * flow (Command.opens) finds its state with what it decided, and sends that.
   */
  private async tookEffect(key: string, recorded: RecordedUpdate): Promise<boolean> {
    if (!recorded.session || recorded.seq === undefined) return true;
    // Any state it wrote, not only the one after its record's: a run again on a newer state (a
    // conflict) whose record could not be written again saved a later one.
    return this.stores.sessions.wroteAny(key, recorded.inbound.dedupeKey);
  }

  /**
   * One turn, from the flow state the update arrived in (`loaded`, with its sequence number).
   * `superseded`: a replay of an update the person's later messages overtook; it leaves the
   * chat's state alone, tells the others again, and answers the speaker only if it ended a flow
   * (a next question would ask what they have since answered).
   *
   * Returns `settled` when replies were handed over unwritten (`recordedAt`, a turn's first try):
   * whether they stand in the outbox (Outbox.enqueueTurn). Absent when everything was written here.
   * `committed`: the turn wrote the chat's next state with its messages (Sessions.committed), or,
   * keeping no state, its messages alone (Decisions).
   */
  private async process(
    inbound: Inbound,
    loaded: LoadedSession,
    superseded = false,
    recordedAt?: Date,
    recordless = false,
    onChecked?: () => void,
  ): Promise<{ settled?: Promise<boolean>; committed: boolean }> {
    const session = loaded.state;
    const { clock, people } = this.services;
    const now = clock.now();
    // Counted before the speaker is read: a change landing while it is read is then seen.
    const peopleBefore = people.changes;
    const speaker = await people.resolveSpeaker({
      ...inbound,
      now,
      newChat: this.firstLike(inbound, loaded),
    });
    // A step of a flow is keyed by the state it answers, so two answers to one step (on two
    // instances) cannot both take effect; anything else by the update.
    const effectKey = session && loaded.stateId ? `state:${loaded.stateId}` : undefined;
    const turn = new Turn(inbound, speaker, this.services, now, effectKey);
    const key = this.sessionKey(inbound);
    // What becomes of the session at the end of the turn (saved before the replies are written).
    let next: SessionState | null | undefined = undefined;

    // A button whose value is a command ("/danhgia PA-…") runs that command, in a flow or not.
    const command = commandOf(inbound);
    const unreadable = !readable(inbound);
    /**
     * A state taken from memory (Sessions.recall) is checked, once, before anything the turn does
     * could depend on it being the chat's state: another instance may have moved the chat on, and
     * the turn then runs again on the new state (SessionConflict). The check is said on the
     * update's record. A step of a flow checks only before the flow's end, where its effects are;
     * its other steps change nothing but the state, whose write is a compare-and-set of its own.
     */
    let checked = !loaded.unchecked;
    /** The check's note, being written; the commit waits for it. */
    let marking: Promise<void> | undefined;
    const check = async (): Promise<void> => {
      if (checked) return;
      if (await this.stores.sessions.movedPast(key, loaded.seq, now, loaded.knownAt))
        throw new SessionConflict(key);
      checked = true;
      onChecked?.();
      // Read by recovery of the update's record: one handled without a record has none (if it
      // comes to have one, recordDeferred says the check passed).
      if (recordless) return;
      // Written beside the turn's effects rather than before them, to keep it off their path:
      // only a crash in those few milliseconds, between the effects and the note, leaves the
      // update unchecked after them. The commit waits for it.
      marking = this.stores.inbox.stateChecked(inbound.dedupeKey, now);
      // Heard by the commit's wait; a turn that throws before it must not leave it unheard.
      marking.catch(() => undefined);
    };
    if (command || unreadable || !session) await check();
    if (command && CANCEL.has(command.name)) {
      if (session) {
        next = null;
        turn.reply(t.engine.cancelled);
      } else {
        turn.reply(t.engine.nothingToCancel);
      }
    } else if (command) {
      const found = this.commands.find(command.name);
      if (!found || (found.channels && !found.channels.includes(inbound.channel))) {
        // In a group a command we do not know is another bot's ("/my_id"): stay silent there.
        // The adapters already drop "/cmd@otherbot"; this covers the command without a suffix.
        if (inbound.chatType !== "group") turn.reply(t.engine.unknownCommand(command.name));
      } else if (!found.roles.includes(speaker.role)) {
        this.services.log.warn(
          {
            command: found.name,
            personId: speaker.personId,
            role: speaker.role,
            dedupeKey: inbound.dedupeKey,
          },
          "engine: forbidden command attempted",
        );
        turn.reply(t.engine.forbidden(found.name));
      } else {
        if (session) {
          next = null;
          turn.reply(t.engine.flowInterrupted);
        }
        if (found.opens !== undefined) turn.startFlow(found.opens);
        else await found.run(turn, command.args);
      }
    } else if (unreadable) {
      // A sticker, a location, a kind of message we cannot read: say so, and stay where we were.
      turn.reply(t.channels.unsupportedMessage);
    } else if (session) {
      next = await this.step(turn, session, check);
    } else {
      await this.route(turn);
    }

    if (turn.flowToStart) next = await this.begin(turn, turn.flowToStart);

    // Session first, outbox second: a reply cannot reach the person (who may answer it at once)
    // before the state it asks about is saved. If we die in between or after, the replay starts
    // from the state recorded with the update, recomputes the same step and the same replies,
    // and the replies already written collide with themselves.
    // No commit before the check's note stands (a failed one fails the turn, which runs again).
    await marking;
    let outbound = turn.outbound;
    let committed = false;
    /** An earlier run of this update had committed already: what it kept is sent. */
    let stood = false;
    if (superseded) {
      outbound = this.leftForSuperseded(
        inbound,
        outbound,
        next === null || (next === undefined && !turn.flowToStart),
      );
    } else {
      // A press that counted moves the chat's sequence on even when its turn keeps no state, so
      // the keyboard it was on (and a double tap) no longer counts.
      if (next === undefined && inbound.step !== undefined) next = null;
      // The speaker's keyboards carry the sequence number this turn leaves the chat at (in a
      // private chat only: in a group anyone may press, and their state is their own).
      const step = next === undefined ? loaded.seq : loaded.seq + 1;
      if (inbound.chatType === "private") {
        outbound = outbound.map((o) =>
          o.choices?.length && o.to.channel === inbound.channel && o.to.chatId === inbound.chatId
            ? { ...o, step }
            : o,
        );
      }
      // The state is written with the messages decided, as they will be sent: a crash after it
      // is recovered by sending them (recoverAbandoned), the turn's effects being done.
      // A turn outside any flow, with no state to write, writes what it decided on its own, for the
      // same reason. One that says nothing has nothing to send again and is marked as before; one
      // that leaves a flow as it was (a sticker mid-flow) has no effect to keep, and runs again.
      const decides = next === undefined && !session && outbound.length > 0;
      // What an earlier try of this update kept, if it did: that stands, and is what is sent.
      let before: Outbound[] | undefined;
      const order = { order: inbound.order, before: loaded.order };
      if (next === null)
        before = await this.stores.sessions.end(key, loaded.seq, inbound.dedupeKey, now, outbound, order);
      else if (next)
        before = await this.stores.sessions.save(
          key,
          loaded.seq,
          next,
          inbound.dedupeKey,
          now,
          outbound,
          order,
        );
      else if (decides) before = await this.stores.decisions.write(inbound.dedupeKey, outbound, now);
      if (before) {
        // Sent as recovery sends what a turn kept (sendCommitted).
        stood = true;
        outbound = await this.keptToSend(inbound, key, {
          ...(decides ? {} : { seq: loaded.seq + 1 }),
          ended: next === null || decides,
          outbound: before,
        });
      }
      committed = next !== undefined || decides;
    }
    // Unwritten only while the update's record is freshly claimed: a reply handed over late could
    // still be in hand when the claim lapses and another instance replays the turn. Never what an
    // earlier run kept: that run may have sent it already, and only a written copy collides.
    const fresh =
      !stood &&
      recordedAt !== undefined &&
      clock.now().getTime() - recordedAt.getTime() < UNWRITTEN_WITHIN_MS;
    const { settled } = await this.stores.outbox.enqueueTurn(outbound, { unwritten: fresh });
    this.announce(outbound.map((o) => o.to.channel));
    const peopleChanged = people.changes !== peopleBefore;
    for (const listener of this.turnListeners) listener(inbound, speaker, peopleChanged);
    // In an object: an async function returning a promise would wait for it.
    return settled ? { settled, committed } : { committed };
  }

  /**
   * What a turn the person's later messages overtook still sends: its notices to others, and what
   * the speaker is told only where it cannot ask what they have since answered (`keepReplies`: a
   * flow that ended, or a turn outside any flow that started none).
   */
  private leftForSuperseded(inbound: Inbound, outbound: Outbound[], keepReplies: boolean): Outbound[] {
    const reply = `${inbound.dedupeKey}#r`;
    return keepReplies ? outbound : outbound.filter((o) => !o.dedupeKey.startsWith(reply));
  }

  private announce(channels: string[]): void {
    if (channels.length === 0) return;
    const set = new Set(channels);
    for (const listener of this.enqueuedListeners) listener(set);
  }

  /**
   * A message that is neither a command nor part of a flow: a reply to something the bot sent
   * about a subject, else free text for the speaker's role. On platforms that do not say what a
   * message replies to, text that comes shortly after a reminder belongs to that reminder; when
   * several reminders are recent, the person is asked which.
   */
  private async route(turn: Turn): Promise<void> {
    const { inbound, speaker } = turn;
    const message: ReplyMessage = { text: inbound.text, attachments: contentOf(inbound) };
    let byRecent = !inbound.replyToMessageId && !CAPABILITIES[inbound.channel].replyTo;
    if (inbound.replyToMessageId) {
      const delivery = await this.stores.links.delivery(
        inbound.channel,
        inbound.chatId,
        inbound.replyToMessageId,
      );
      const subject = delivery?.subject;
      const handler = subject && this.replyHandlers.get(subject.kind);
      if (subject && handler) {
        await handler(turn, subject, message);
        return;
      }
      // A reply to a message the bot has no record of sending: the one window no system closes
      // (the platform took a reminder, the bot died before recording it, and sent it again). The
      // reply is read as on a platform without reply-to, by the reminders recently sent.
      byRecent = !delivery;
    }
    if (byRecent && this.replyHandlers.has("task")) {
      const since = new Date(turn.now.getTime() - REPLY_WINDOW_MS);
      const recent = await this.stores.links.recent(inbound.channel, inbound.chatId, "task", since);
      const [only] = recent;
      if (recent.length === 1 && only) {
        await this.replyHandlers.get("task")?.(turn, only.subject, message);
        return;
      }
      if (recent.length > 1) {
        turn.startFlow(WHICH_FLOW, "", {
          message,
          options: recent.slice(0, 8).map((r) => ({ label: r.label, value: r.subject.id })),
        });
        return;
      }
    }
    const handler = this.freeText.get(speaker.role);
    if (handler) {
      await handler(turn);
      return;
    }
    turn.reply(speaker.role === "citizen" ? t.engine.freeTextCitizen : t.engine.freeTextOfficial);
  }

  private expiry(flow: AnyFlow, now: Date): Date {
    return new Date(now.getTime() + flow.ttlMinutes * 60_000);
  }

  private async prompt(
    turn: Turn,
    step: FlowStep<FlowData>,
    data: FlowData,
    around: { before?: string; after?: string } = {},
  ): Promise<void> {
    const choices = step.choices ? await step.choices(data, turn) : undefined;
    const text = [around.before, await step.prompt(data, turn), around.after].filter(Boolean).join("\n\n");
    turn.reply(text, choices ? { choices } : {});
  }

  private async begin(
    turn: Turn,
    { name, args, seed }: NonNullable<Turn["flowToStart"]>,
  ): Promise<SessionState | null> {
    const flow = this.flows.get(name);
    if (!flow) throw new Error(`flow ${name} is not registered`);
    if (!flow.roles.includes(turn.speaker.role)) {
      turn.reply(t.engine.forbidden(name));
      return null;
    }
    const data = { ...flow.initial(turn, args), ...seed };
    const first = flow.steps[flow.first];
    if (!first) throw new Error(`flow ${name} has no step ${flow.first}`);
    await this.prompt(turn, first, data, { after: t.engine.cancelHint });
    return {
      flow: flow.name,
      version: flow.version,
      step: flow.first,
      data,
      expiresAt: this.expiry(flow, turn.now),
    };
  }

  /**
   * Feeds one answer to the current step; returns the new session, or null when the flow ended.
   * `beforeEffects` runs before the flow's end (see process).
   */
  private async step(
    turn: Turn,
    session: SessionState,
    beforeEffects: () => Promise<void>,
  ): Promise<SessionState | null> {
    const flow = this.flows.get(session.flow);
    const step = flow?.steps[session.step];
    if (!flow || !step || flow.version !== session.version) {
      turn.reply(t.engine.flowChanged);
      return null;
    }
    if (!flow.roles.includes(turn.speaker.role)) {
      turn.reply(t.engine.forbidden(flow.name));
      return null;
    }
    const { inbound } = turn;
    const choices = step.choices ? await step.choices(session.data, turn) : undefined;
    const choice = choices ? matchChoice(inbound, choices) : undefined;
    const keep = { ...session, expiresAt: this.expiry(flow, turn.now) };
    if (choices && !choice && !step.freeText) {
      // Says why: not an option here (and which are), several options, or a number out of range.
      await this.prompt(turn, step, session.data, { before: choiceRetry(inbound, choices) });
      return keep;
    }
    const attachments = contentOf(inbound);
    if (!inbound.text && attachments.length === 0 && !choice) {
      await this.prompt(turn, step, session.data, { before: t.engine.emptyAnswer });
      return keep;
    }
    const result = await step.accept(
      { text: inbound.text, attachments, ...(choice ? { choice } : {}) },
      session.data,
      turn,
    );
    if ("error" in result) {
      await this.prompt(turn, step, session.data, { before: result.error });
      return keep;
    }
    if (result.next === undefined) {
      const checking = beforeEffects();
      // Heard below, or through the flow's own wait; a finish that throws first must not leave it unheard.
      checking.catch(() => undefined);
      turn.checkRunning(checking);
      // Only a flow whose end reads first runs beside the check; any other starts once it passed.
      if (!flow.readsFirst) await checking;
      try {
        await flow.finish(result.data, turn);
      } catch (error) {
        // A chat moved on says more than a failed read of a turn that would not run anyway: it
        // runs again at once on the new state, rather than retried or failed for that read.
        await checking;
        throw error;
      }
      // A finish that never waited (a feedback cancelled, an identity refused) still ends on a checked state.
      await checking;
      return null;
    }
    const nextStep = flow.steps[result.next];
    if (!nextStep) throw new Error(`flow ${flow.name}: step ${result.next} does not exist`);
    await this.prompt(turn, nextStep, result.data);
    return { ...keep, step: result.next, data: result.data };
  }
}
