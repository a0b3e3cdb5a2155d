import { readFileSync } from "node:fs";
import dayjs from "dayjs";
import utc from "dayjs/plugin/utc.js";
import { parse } from "yaml";
import { z } from "zod";
import type { Day, WorkCalendar } from "../calendar/work-calendar.js";

dayjs.extend(utc);

export const FEEDBACK_TYPES = ["gop_y", "phan_anh", "kien_nghi", "khieu_nai", "to_cao"] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

const span = z.object({
  days: z.number().int().min(1),
  unit: z.enum(["working", "calendar"]),
  source: z.string().min(3),
});
export type Span = z.infer<typeof span>;

const extension = span.extend({
  max: z.number().int().min(1),
  /** `complex`: one longer limit for a complex case (khiếu nại); `extension`: a granted extension (tố cáo). */
  kind: z.enum(["complex", "extension"]).default("extension"),
});

/** The steps one round of handling takes: acceptance (thụ lý) where the law has one, then resolution. */
const limits = z.object({
  acceptance: span.extend({ extension: extension.optional(), notice: z.string().optional() }).optional(),
  resolution: span,
  extension: extension.optional(),
});
export type Limits = z.infer<typeof limits>;

/** Whether the filer must give a piece of identity, may give it ("nếu có"), or is not asked. */
const presence = z.enum(["required", "optional", "absent"]);
const identityPlan = z.object({
  name: presence,
  address: presence,
  phone: presence,
  /**
   * `legal_duty`: the law asks for the data, the filer is informed and never asked to consent
   * (Luật Bảo vệ dữ liệu cá nhân 2025, điều 19); `consent`: given only with the filer's consent.
   */
  basis: z.enum(["legal_duty", "consent"]),
});
export type IdentityPlan = z.infer<typeof identityPlan> & { source?: string };

const typeRule = limits.extend({
  label: z.string(),
  explain: z.string(),
  legal: z.boolean(),
  confidential: z.boolean().default(false),
  identity: identityPlan,
  identitySource: z.string().optional(),
  identityForFields: z
    .array(z.object({ fields: z.array(z.string()).min(1), identity: identityPlan, source: z.string() }))
    .default([]),
  /** Khiếu nại lần hai: when the filer may go on, who decides, and its own limits. */
  secondRound: limits.extend({ window: span, resolver: z.string() }).optional(),
});

const rulesFile = z.object({
  dayOff: z.object({ rule: z.literal("next_working_day"), source: z.string().min(3) }),
  // At most 60,000: sealed, that many characters of 4 bytes still fit the ticket (MAX_STORED_CONTENT).
  content: z.object({ maxChars: z.number().int().min(20_000).max(60_000), source: z.string() }),
  personalData: z.object({
    law: z.string(),
    legalDutyArticle: z.string(),
    consentArticle: z.string(),
    retention: z.string(),
  }),
  types: z.object(
    Object.fromEntries(FEEDBACK_TYPES.map((type) => [type, typeRule])) as Record<
      FeedbackType,
      typeof typeRule
    >,
  ),
  fields: z.array(z.object({ key: z.string().regex(/^[a-z_]+$/), label: z.string() })).min(1),
});

export type TypeRule = z.infer<typeof typeRule>;
export type FeedbackRules = z.infer<typeof rulesFile>;

export function loadFeedbackRules(file: string): FeedbackRules {
  return rulesFile.parse(parse(readFileSync(file, "utf8")));
}

/**
 * The last day of a limit of `days` counted from `start` (the start day itself not counted, BLDS
 * 2015 art. 147). Working days skip weekends and holidays; a calendar-day limit that ends on a day
 * off ends on the next working day (art. 148 k5, `dayOff` in rules.yaml).
 * @example limitEnd("2026-11-30", 30, "calendar", calendar) // "2026-12-30"
 */
export function limitEnd(start: Day, days: number, unit: Span["unit"], calendar: WorkCalendar): Day {
  if (unit === "working") return calendar.addWorkingDays(start, days);
  return calendar.addWorkingDays(dayjs.utc(start).add(days, "day").format("YYYY-MM-DD"), 0);
}

/** The limits of round 1 or, for a khiếu nại lần hai, of round 2. */
export function limitsOf(rule: TypeRule, round: number | undefined): Limits {
  return round === 2 && rule.secondRound ? rule.secondRound : rule;
}

/** The day acceptance must be decided by, counted from receipt, with the extensions granted. */
export function acceptByDay(limits: Limits, received: Day, extensions: number, calendar: WorkCalendar): Day {
  const step = limits.acceptance;
  if (!step) return received;
  const extra = step.extension ? Math.min(extensions, step.extension.max) * step.extension.days : 0;
  // An extension of acceptance is counted in the same unit as the step it lengthens.
  return limitEnd(received, step.days + extra, step.unit, calendar);
}

/**
 * The day a ticket must be resolved by, counted from `start` (the acceptance day, or the day it was
 * received where the type has no acceptance step), with each extension granted.
 */
export function resolveByDay(limits: Limits, start: Day, extensions: number, calendar: WorkCalendar): Day {
  const { resolution, extension: ext } = limits;
  if (ext && ext.unit !== resolution.unit) {
    let day = limitEnd(start, resolution.days, resolution.unit, calendar);
    for (let i = 0; i < Math.min(extensions, ext.max); i += 1)
      day = limitEnd(day, ext.days, ext.unit, calendar);
    return day;
  }
  const extra = ext ? Math.min(extensions, ext.max) * ext.days : 0;
  return limitEnd(start, resolution.days + extra, resolution.unit, calendar);
}

/**
 * The latest day a filer can expect an answer, counted from receipt: acceptance decided on its
 * last allowed day, then the resolution limit — what the filer is told before acceptance.
 * @example dueDay(rules.types.to_cao, "2025-04-25", 0, calendar) // 7 working days, then 30 days
 */
export function dueDay(rule: TypeRule, received: Day, extensions: number, calendar: WorkCalendar): Day {
  const start = rule.acceptance ? acceptByDay(rule, received, 0, calendar) : received;
  return resolveByDay(rule, start, extensions, calendar);
}

/** What this type, about this field, asks of the filer's identity, and on what basis. */
export function identityPlanOf(rule: TypeRule, field: string): IdentityPlan {
  const special = rule.identityForFields.find((f) => f.fields.includes(field));
  if (special) return { ...special.identity, source: special.source };
  return { ...rule.identity, ...(rule.identitySource ? { source: rule.identitySource } : {}) };
}

/** Whether this type, about this field, needs the filer's name (and so the law's identity). */
export function identityRequired(rule: TypeRule, field: string): boolean {
  return identityPlanOf(rule, field).name === "required";
}
