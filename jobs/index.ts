import type { Connection } from "mongoose";
import { calendarCheckJob } from "./calendar-check.js";
import { quarterlySummaryJob, weeklyDigestJob } from "./digests.js";
import { escalationJob } from "./escalation.js";
import type { Job } from "./job.js";
import { remindersJob } from "./reminders.js";
import { ticketDeadlinesJob } from "./ticket-deadlines.js";

/** Every scheduled job, in the order `jobs:list` shows them. */
export function allJobs(connection: Connection): Job[] {
  return [
    remindersJob,
    escalationJob(connection),
    ticketDeadlinesJob,
    weeklyDigestJob,
    quarterlySummaryJob,
    calendarCheckJob,
  ];
}
