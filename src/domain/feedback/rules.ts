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

const typeRule = z.object({
  label: z.string(),
  explain: z.string(),
  identity: z.enum(["optional", "required"]),
  identityRequiredForFields: z.array(z.string()).default([]),
  identitySource: z.string().optional(),
  legal: z.boolean(),
  confidential: z.boolean().default(false),
  steps: z.array(span).min(1),
  extension: span.extend({ max: z.number().int().min(1) }).optional(),
});

const rulesFile = z.object({
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

function add(day: Day, days: number, unit: "working" | "calendar", calendar: WorkCalendar): Day {
  return unit === "working"
    ? calendar.addWorkingDays(day, days)
    : dayjs.utc(day).add(days, "day").format("YYYY-MM-DD");
}

/**
 * The day a ticket must be answered by: the rule's steps added up from the day it was received,
 * then each extension granted. Working days skip weekends and public holidays.
 * @example dueDay(rules.types.to_cao, "2025-04-25", 0, calendar) // 7 working days, then 30 days
 */
export function dueDay(rule: TypeRule, received: Day, extensions: number, calendar: WorkCalendar): Day {
  let day = received;
  for (const step of rule.steps) day = add(day, step.days, step.unit, calendar);
  if (rule.extension) {
    for (let i = 0; i < Math.min(extensions, rule.extension.max); i += 1) {
      day = add(day, rule.extension.days, rule.extension.unit, calendar);
    }
  }
  return day;
}

/** Whether this type, about this field, needs the filer's name, address and phone. */
export function identityRequired(rule: TypeRule, field: string): boolean {
  return rule.identity === "required" || rule.identityRequiredForFields.includes(field);
}
