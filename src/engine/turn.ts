import type { Clock } from "../clock.js";
import type { PeopleService, Speaker } from "../domain/people/service.js";
import type { Logger } from "../log.js";
import type { Choice, Inbound, Outbound, OutboundFile, Recipient, Subject } from "./message.js";

export interface ReplyOptions {
  choices?: Choice[];
  files?: OutboundFile[];
  subject?: Subject;
}

/** What every handler may use besides the turn itself. Features add their services beside these. */
export interface EngineServices {
  clock: Clock;
  log: Logger;
  people: PeopleService;
  orgName: string;
  timeZone: string;
}

/**
 * One inbound message being handled: who spoke, what they said, and the messages decided so far.
 * Handlers never send: they add to `outbound`, which the engine writes to the outbox in one go.
 * Dedupe keys derive from the inbound's key, so handling the same update again after a crash
 * writes the same keys and sends nothing twice.
 */
export class Turn {
  readonly outbound: Outbound[] = [];
  private replyCount = 0;
  /** Set by a handler that starts a flow; the engine saves it after the outbox write. */
  flowToStart: { name: string; args: string; seed?: Record<string, unknown> } | undefined;
  /** The engine's check of the state this turn started from, running (see Flow.readsFirst). */
  private checking: Promise<void> = Promise.resolve();

  constructor(
    readonly inbound: Inbound,
    readonly speaker: Speaker,
    readonly services: EngineServices,
    readonly now: Date,
    /** Set for a step of a flow: the state it answers (see LoadedSession.stateId). */
    private readonly effectKey?: string,
  ) {}

  /**
   * A key for side effects of this turn (creating a ticket, saving a report), so that replaying
   * the same update cannot do them twice. In a flow it names the state the step answers, so a
   * second answer to the same step (sent twice, handled on two instances at once) cannot do them
   * again either; it loses the race for the next state and runs again on that state.
   */
  get idempotencyKey(): string {
    return this.effectKey ?? this.inbound.dedupeKey;
  }

  /**
   * Settles once the engine has checked that the chat is still at the state this turn started
   * from; throws if another instance moved it on. A flow's end that reads before it changes
   * anything (Flow.readsFirst) waits for it before its first change, the check having run beside
   * its reads; for any other handler it has settled before the handler runs.
   */
  stateChecked(): Promise<void> {
    return this.checking;
  }

  /** Called by the engine only, as it starts the check a `readsFirst` flow's end waits for. */
  checkRunning(checking: Promise<void>): void {
    this.checking = checking;
  }

  get log(): Logger {
    return this.services.log;
  }

  /** Answers in the chat the message came from. */
  reply(text: string, options: ReplyOptions = {}): void {
    this.replyCount += 1;
    this.outbound.push({
      to: { channel: this.inbound.channel, chatId: this.inbound.chatId, personId: this.speaker.personId },
      text,
      ...options,
      dedupeKey: `${this.inbound.dedupeKey}#r${this.replyCount}`,
    });
  }

  /**
   * Tells someone else. `key` names the notice within this turn (e.g. "assigned"), so the key
   * stays stable when the turn is replayed.
   */
  notify(to: Recipient, key: string, text: string, options: ReplyOptions = {}): void {
    this.outbound.push({ to, text, ...options, dedupeKey: `${this.inbound.dedupeKey}#n:${key}` });
  }

  /**
   * Starts a flow after this handler returns (its first prompt is sent in this turn). `seed`
   * adds to the flow's initial data what the handler already loaded (a record to edit).
   */
  startFlow(name: string, args = "", seed?: Record<string, unknown>): void {
    this.flowToStart = { name, args, ...(seed ? { seed } : {}) };
  }
}
