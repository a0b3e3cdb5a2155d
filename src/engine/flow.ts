import type { Role } from "../domain/people/roles.js";
import type { Attachment, Choice } from "./message.js";
import type { Turn } from "./turn.js";

/** What a person answered at a step: the text, the choice it matched, and any files. */
export interface StepAnswer {
  text: string;
  choice?: Choice;
  attachments: Attachment[];
}

/** A step either moves on with new data (to `next`, or finishes when `next` is absent) or says what was wrong. */
export type StepResult<D> = { data: D; next?: string } | { error: string };

export interface FlowStep<D> {
  /** May read the database (a summary before a confirmation). */
  prompt(data: D, turn: Turn): string | Promise<string>;
  /** Offered choices; the answer must match one of them unless `freeText` is set. */
  choices?(data: D, turn: Turn): Choice[] | Promise<Choice[]>;
  freeText?: boolean;
  /**
   * Reads the answer. It may run from the state this process remembers, which another instance
   * may have left (the engine checks only before `finish`, and the next state's write fails if
   * the chat moved on): anything it changes must be harmless to have changed then. (The one change
   * made here, the plan upload's removal of the file it read, then costs the Office a resend.)
   */
  accept(answer: StepAnswer, data: D, turn: Turn): StepResult<D> | Promise<StepResult<D>>;
}

/**
 * A guided conversation declared as data: named steps, each with its prompt, choices and
 * validator. The engine stores `data` and the current step in MongoDB after every answer.
 */
export interface Flow<D> {
  name: string;
  /** Bump when the shape of `data` or the steps change. */
  version: number;
  roles: readonly Role[];
  /** An untouched flow expires after this long and is forgotten. */
  ttlMinutes: number;
  first: string;
  initial(turn: Turn, args: string): D;
  steps: Record<string, FlowStep<D>>;
  /**
   * Where a flow's effects go: the engine has checked the state the turn started from first,
   * unless `readsFirst` is set.
   */
  finish(data: D, turn: Turn): void | Promise<void>;
  /**
   * Set when `finish` only reads until it has awaited `turn.stateChecked()`, and changes nothing
   * before: the engine then runs its check of the state beside those reads instead of before
   * them, a round trip less before the reply (the confirmation of a ticket, whose filing reads
   * the person's tickets of the day first). A change made before that wait could be made for a
   * chat another instance has moved on (a feedback withdrawn there, then filed here).
   */
  readsFirst?: boolean;
}

/** Flow data is stored as a plain object; the registry keeps flows without their data type. */
export type FlowData = Record<string, unknown>;
export type AnyFlow = Flow<FlowData>;

/**
 * Registers a typed flow in the untyped registry.
 * @example engine.use({ flows: [defineFlow<MyData>({ name: "gopy", ... })] })
 */
export function defineFlow<D extends object>(flow: Flow<D>): AnyFlow {
  // Sound: the engine only hands a flow the data that flow itself produced.
  return flow as unknown as AnyFlow;
}
