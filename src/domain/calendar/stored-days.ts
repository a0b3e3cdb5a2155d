import { Schema, Types, type Model } from "mongoose";
import { isDuplicateKeyError } from "../../db/errors.js";
import type { Speaker } from "../people/service.js";
import type { Day, DayOverride, WorkCalendar } from "./work-calendar.js";

/**
 * One change of the calendar made in the chat (/ngaynghi). Never edited nor removed: the list is
 * both what the calendar applies (the latest change of each day wins) and the audit of who
 * changed which day, when, and what the day was before.
 */
export interface CalendarChangeDoc {
  _id: Types.ObjectId;
  at: Date;
  year: number;
  /** "close": the year's days off are complete (the decision is in); `name` holds its reference. */
  kind: DayOverride["kind"] | "close";
  /** Absent for "close". */
  day?: Day;
  /** The day off's name, or the reference of the decision for "close". */
  name?: string;
  /** What the calendar said of the day just before: the audit shows what changed. */
  before?: { working: boolean; name?: string };
  by: { personId: Types.ObjectId; name: string; role: string };
  /** The update that made the change and its position in it: a replayed update changes nothing twice. */
  idempotencyKey: string;
}

export const calendarChangeSchema = new Schema<CalendarChangeDoc>(
  {
    at: { type: Date, required: true },
    year: { type: Number, required: true },
    kind: { type: String, required: true, enum: ["off", "work", "ordinary", "close"] },
    day: { type: String },
    name: { type: String, maxlength: 300 },
    before: { _id: false, working: Boolean, name: String },
    by: {
      personId: { type: Schema.Types.ObjectId, required: true },
      name: { type: String, required: true },
      role: { type: String, required: true },
    },
    idempotencyKey: { type: String, required: true, unique: true },
  },
  { collection: "calendar_changes" },
);
calendarChangeSchema.index({ year: 1, at: 1 });

export type NewChange =
  { kind: DayOverride["kind"]; day: Day; name?: string } | { kind: "close"; year: number; name: string };

/**
 * The calendar's changes kept in MongoDB, laid over the holiday files. A change is applied in
 * this process as soon as it is written; other instances pick it up at their next `refresh`
 * (main.ts refreshes every minute), since the calendar is read synchronously everywhere.
 */
export class CalendarDays {
  constructor(
    private readonly model: Model<CalendarChangeDoc>,
    readonly calendar: WorkCalendar,
  ) {}

  /** Reads every change and lays the latest of each day over the files. */
  async refresh(): Promise<void> {
    const changes = await this.model.find().sort({ at: 1, _id: 1 }).lean();
    const latest = new Map<Day, DayOverride>();
    const closed = new Set<number>();
    for (const change of changes) {
      if (change.kind === "close") closed.add(change.year);
      else if (change.day)
        latest.set(change.day, {
          day: change.day,
          kind: change.kind,
          ...(change.name ? { name: change.name } : {}),
        });
    }
    this.calendar.setOverrides([...latest.values()], closed);
  }

  /**
   * Records `changes` (made together, e.g. the two halves of a move) and applies them at once.
   * Written under `key`, so the same update handled twice records them once.
   */
  async apply(changes: NewChange[], by: Speaker, at: Date, key: string): Promise<void> {
    await this.refresh();
    for (const [index, change] of changes.entries()) {
      const day = change.kind === "close" ? undefined : change.day;
      const doc = {
        at,
        year: change.kind === "close" ? change.year : Number(change.day.slice(0, 4)),
        kind: change.kind,
        ...(day ? { day, before: this.describe(day) } : {}),
        ...(change.name ? { name: change.name } : {}),
        by: { personId: new Types.ObjectId(by.personId), name: by.name, role: by.role },
        idempotencyKey: `${key}:${index}`,
      };
      try {
        await this.model.create(doc);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    await this.refresh();
  }

  private describe(day: Day): { working: boolean; name?: string } {
    const name = this.calendar.holidayName(day);
    return { working: this.calendar.isWorkingDay(day), ...(name ? { name } : {}) };
  }

  /** The changes of a year, oldest first: the audit the Office reads with /ngaynghi lịch sử. */
  async history(year: number): Promise<CalendarChangeDoc[]> {
    return this.model.find({ year }).sort({ at: 1, _id: 1 }).lean();
  }
}
