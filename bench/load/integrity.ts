import { codeIn, type Outcome } from "./people.js";
import type { Channel, Platforms } from "./platforms.js";

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

/** Where a bot keeps what the checks look at: its own collections, its own shapes. */
export interface Stored {
  /** Tracking codes of the tickets filed from this chat. */
  ticketsOf(channel: Channel, chatId: string): Promise<string[]>;
  /** Progress reports saved for this official (only our bot has officials). */
  reportsOf?(channel: Channel, chatId: string): Promise<number>;
}

function check(name: string, problems: string[], ok: string): Check {
  return {
    name,
    pass: problems.length === 0,
    detail: problems.length === 0 ? ok : `${problems.length}: ${problems.slice(0, 3).join("; ")}`,
  };
}

/**
 * What must hold after the run, read from the database and from what the fake platforms
 * received: nothing lost, nothing twice.
 */
export async function checkIntegrity(
  outcomes: Outcome[],
  platforms: Platforms,
  stored: Stored,
  reminderText?: string,
): Promise<Check[]> {
  const citizens = outcomes.filter((o) => o.person.kind === "citizen");
  const officials = outcomes.filter((o) => o.person.kind === "official");
  const who = (o: Outcome) => `${o.person.channel}:${o.person.id}`;

  /** Where a person stopped, and the last thing the bot had said to them (often the clue). */
  const stuck = (o: Outcome) => {
    const last = platforms.arrivals(o.person.channel, o.person.id).at(-1)?.text ?? "(nothing)";
    const short = last.replace(/\s+/g, " ").slice(0, 60);
    return `${who(o)} stuck at ${o.stuckAt}, last heard "${short}${last.length > 60 ? "…" : ""}"`;
  };
  const unfinished = citizens.filter((o) => !o.finished).map(stuck);
  let tickets = 0;
  const ticketProblems: string[] = [];
  const confirmationProblems: string[] = [];
  for (const o of citizens) {
    const codes = await stored.ticketsOf(o.person.channel, o.person.id);
    tickets += codes.length;
    const given = platforms
      .arrivals(o.person.channel, o.person.id)
      .map((a) => codeIn(a.text))
      .filter((code): code is string => code !== undefined);
    if (given.length > 1) confirmationProblems.push(`${who(o)} got ${given.join(", ")}`);
    if (!o.finished) {
      if (codes.length > 0)
        ticketProblems.push(`${who(o)} has ${codes.length} ticket(s) but no confirmation`);
      continue;
    }
    if (codes.length !== 1) ticketProblems.push(`${who(o)} has ${codes.length} tickets`);
    else if (codes[0] !== given[0])
      ticketProblems.push(`${who(o)} was given ${given[0]}, stored ${codes[0]}`);
  }
  const checks = [
    check(
      "every citizen reached a tracking code (none lost)",
      unfinished,
      `${citizens.length} of ${citizens.length}`,
    ),
    check(
      "exactly one ticket per citizen, with the code they were given",
      ticketProblems,
      `${tickets} tickets for ${citizens.length} citizens`,
    ),
    check("no one got the same confirmation twice", confirmationProblems, "none repeated"),
  ];

  if (officials.length > 0 && stored.reportsOf) {
    const reportProblems: string[] = [];
    const reminderProblems: string[] = [];
    for (const o of officials) {
      if (!o.finished) reportProblems.push(stuck(o));
      else {
        const reports = await stored.reportsOf(o.person.channel, o.person.id);
        if (reports !== 1) reportProblems.push(`${who(o)} has ${reports} reports`);
      }
      if (reminderText) {
        const reminders = platforms
          .arrivals(o.person.channel, o.person.id)
          .filter((a) => a.text.includes(reminderText)).length;
        if (reminders !== 1) reminderProblems.push(`${who(o)} got ${reminders} reminders`);
      }
    }
    checks.push(check("every official's report saved once", reportProblems, `${officials.length} reports`));
    if (reminderText) {
      checks.push(check("each reminder sent once", reminderProblems, `${officials.length} reminders`));
    }
  }
  return checks;
}

/**
 * Messages a chat received twice with the same text. Not a failure by itself: the outbox sends
 * at least once, and a crash between the platform's accept and the "sent" write repeats a
 * message (src/engine/outbox.ts says so). The confirmation check above is the one that matters.
 */
export function repeatedReplies(outcomes: Outcome[], platforms: Platforms): number {
  let repeated = 0;
  for (const o of outcomes) {
    const seen = new Set<string>();
    for (const arrival of platforms.arrivals(o.person.channel, o.person.id)) {
      if (seen.has(arrival.text)) repeated += 1;
      seen.add(arrival.text);
    }
  }
  return repeated;
}
