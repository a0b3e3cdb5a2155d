import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
import type { Connection } from "mongoose";
import { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { isRole } from "../../src/domain/people/roles.js";
import type { Delivery } from "../../src/engine/channel.js";
import { PlainError } from "../../src/cli/error-line.js";
import type { Logger } from "../../src/log.js";
import type { Sealer } from "../../src/privacy/sealer.js";
import { ROOT_DIR } from "../../src/paths.js";
import { importPlanFile, seedDemoPeople } from "../../src/seed.js";
import { DEFAULT_JOB_SETTINGS } from "../../src/config.js";
import { allJobs } from "../../jobs/index.js";
import { ConsoleInboundFactory, ConsoleSender, parseConsoleLine, senderIdFor } from "./console-channel.js";
import { renderDelivery } from "./render.js";

/**
 * A transcript is a plain-text script of what several people type and what the bot must answer.
 * The format is documented in README.md ("Transcripts"); in short:
 *
 *   # a comment
 *   !clock 2025-10-06 09:00   the clock reads that time (in the organisation's time zone); put it
 *                             first, so the transcript plays the same under npm test and npm run chat
 *   @citizen /help            citizen sends "/help" (a role name gives that role; any other name is a citizen)
 *   = Các lệnh                a message to the last speaker since their message contains "Các lệnh"
 *   =@office Có phản ánh mới  a message to office since the last message contains that text
 *   != Không có lệnh          no message to the last speaker contains that text
 *   @staff ^ xong rồi         staff replies to the last message the bot sent them
 *   @office 📎 FILE caption   office sends the file (path from the repository root) as a document
 *   !wait 31m                 time moves on (s, m, h, d)
 *   !restart                  the bot restarts: a new engine on the same database
 *   !seed                     the demo units and people (data/units, data/demo)
 *   !plan FILE                import a plan file (path from the repository root)
 *   !job reminders            a scheduled job runs now (if it acts at this time); what it sends is
 *                             what the next = lines look at
 *   = Mã tra cứu: {code}      {name} captures a word the first time it is met (a code the bot made
 *   @citizen /tracuu {code}   up); later lines use the captured value
 */
export type TranscriptStep =
  | { kind: "say"; line: number; speaker: string; text: string }
  | { kind: "expect"; line: number; to: string | undefined; text: string; negate: boolean }
  | { kind: "wait"; line: number; ms: number }
  | { kind: "clock"; line: number; at: string }
  | { kind: "restart"; line: number }
  | { kind: "seed"; line: number }
  | { kind: "plan"; line: number; file: string }
  | { kind: "job"; line: number; name: string };

/** A line the transcript reader does not know: printed as it is, with its line number. */
export class TranscriptSyntaxError extends PlainError {
  override name = "TranscriptSyntaxError";
}

dayjs.extend(utc);
dayjs.extend(timezone);

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseTranscript(source: string): TranscriptStep[] {
  const steps: TranscriptStep[] = [];
  source.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const text = raw.trim();
    if (!text || text.startsWith("#")) return;
    let match: RegExpExecArray | null;
    if ((match = /^@(\S+)\s+(.+)$/.exec(text))) {
      steps.push({ kind: "say", line, speaker: match[1] ?? "", text: match[2] ?? "" });
    } else if ((match = /^(!?)=(?:@(\S+))?\s+(.+)$/.exec(text))) {
      steps.push({
        kind: "expect",
        line,
        negate: match[1] === "!",
        to: match[2],
        text: (match[3] ?? "").normalize("NFC"),
      });
    } else if ((match = /^!wait\s+(\d+)\s*([smhd])$/.exec(text))) {
      steps.push({ kind: "wait", line, ms: Number(match[1]) * (UNITS[match[2] ?? "s"] ?? 1000) });
    } else if ((match = /^!clock\s+(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}))?$/.exec(text))) {
      const at = `${match[1] ?? ""} ${match[2] ?? "00:00"}`;
      // dayjs rolls 2025-02-30 over to March: a date that does not read back is a typo.
      if (dayjs(at).format("YYYY-MM-DD HH:mm") !== at) {
        throw new TranscriptSyntaxError(`line ${line}: no such time "${at}"`);
      }
      steps.push({ kind: "clock", line, at });
    } else if (text === "!restart") {
      steps.push({ kind: "restart", line });
    } else if (text === "!seed") {
      steps.push({ kind: "seed", line });
    } else if ((match = /^!plan\s+(\S+)$/.exec(text))) {
      steps.push({ kind: "plan", line, file: match[1] ?? "" });
    } else if ((match = /^!job\s+(\S+)$/.exec(text))) {
      steps.push({ kind: "job", line, name: match[1] ?? "" });
    } else {
      throw new TranscriptSyntaxError(`line ${line}: cannot read "${text}"`);
    }
  });
  return steps;
}

/** A file of the repository sent as a document, as an adapter would describe it. */
async function consoleDocument(file: string) {
  const ref = path.resolve(ROOT_DIR, file);
  return { kind: "document" as const, ref, name: path.basename(ref), size: (await stat(ref)).size };
}

const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/gi;

function substitute(text: string, vars: Map<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => vars.get(name) ?? whole);
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Whether `text` contains the expectation. Placeholders already captured stand for their value;
 * new ones match a run of non-space characters (trailing punctuation excluded) and are captured.
 */
function matches(text: string, expected: string, vars: Map<string, string>): boolean {
  const known = substitute(expected, vars);
  const names: string[] = [];
  const pattern = known
    .split(PLACEHOLDER)
    .map((part, i) => {
      if (i % 2 === 0) return escape(part);
      names.push(part);
      return "([^\\s,;]*[^\\s,;.!?:)])";
    })
    .join("");
  const match = new RegExp(pattern).exec(text);
  if (!match) return false;
  names.forEach((name, i) => vars.set(name, match[i + 1] ?? ""));
  return true;
}

export interface TranscriptDeps {
  connection: Connection;
  sealer: Sealer;
  clock: FixedClock;
  log: Logger;
  orgName: string;
  timeZone: string;
  /** Lets a test add features or inspect the app after each restart. */
  onApp?: (app: App) => void | Promise<void>;
}

export interface TranscriptResult {
  ok: boolean;
  /** Everything said, in order: "@name: text" for people, the rendered message for the bot. */
  output: string[];
  failures: string[];
}

/** Plays a transcript through the real engine and outbox on the given database. */
export async function runTranscript(
  steps: TranscriptStep[],
  deps: TranscriptDeps,
): Promise<TranscriptResult> {
  const output: string[] = [];
  const failures: string[] = [];
  let window: Delivery[] = [];
  const sender = new ConsoleSender((text, delivery) => {
    output.push(text);
    window.push(delivery);
  });
  const factory = new ConsoleInboundFactory(() => deps.clock.now());

  const build = async () => {
    const app = new App({ ...deps, consoleRoles: true });
    await app.ensureIndexes();
    const dispatcher = app.addChannel(sender);
    // A console "file" is a path on this machine: the bot reads what 📎 lines send.
    app.attachmentReaders.set("console", (ref) => readFile(ref));
    await deps.onApp?.(app);
    return { app, dispatcher };
  };
  let { app, dispatcher } = await build();
  let lastSpeaker: string | undefined;
  const vars = new Map<string, string>();

  try {
    for (const step of steps) {
      switch (step.kind) {
        case "say": {
          const id = senderIdFor(step.speaker);
          lastSpeaker = id;
          const parsed = parseConsoleLine(substitute(step.text, vars));
          if (parsed.kind !== "message") throw new TranscriptSyntaxError(`line ${step.line}: empty message`);
          const replyTo = parsed.replyToLast ? sender.lastIdByChat.get(id) : undefined;
          output.push(`@${step.speaker}: ${substitute(step.text, vars)}`);
          window = [];
          deps.clock.advance(1000);
          const file = /^📎\s*(\S+)\s*([\s\S]*)$/u.exec(parsed.text);
          const inbound = factory.build(
            { id, name: isRole(id) ? "" : step.speaker },
            file ? (file[2] ?? "") : parsed.text,
            replyTo,
          );
          if (file) inbound.attachments = [await consoleDocument(file[1] ?? "")];
          await app.engine.handle(inbound);
          await dispatcher.drain();
          break;
        }
        case "expect": {
          const to = step.to ? senderIdFor(step.to) : lastSpeaker;
          const texts = window
            .filter((d) => d.chatId === to)
            .map((d) => renderDelivery(d, "").normalize("NFC"));
          const found = texts.some((text) => matches(text, step.text, vars));
          if (found === step.negate) {
            failures.push(
              `line ${step.line}: ${step.negate ? "unexpected" : "expected"} a message to ${to} containing "${step.text}"`,
            );
          }
          break;
        }
        case "wait":
          deps.clock.advance(step.ms);
          break;
        case "clock":
          deps.clock.set(dayjs.tz(step.at, deps.timeZone).toDate());
          break;
        case "restart":
          await app.stop();
          ({ app, dispatcher } = await build());
          break;
        case "seed":
          await seedDemoPeople(app, deps.clock.now());
          break;
        case "plan":
          await importPlanFile(app, path.resolve(ROOT_DIR, step.file), deps.clock.now());
          break;
        case "job": {
          const job = allJobs(deps.connection).find((j) => j.name === step.name);
          if (!job) throw new TranscriptSyntaxError(`line ${step.line}: no job "${step.name}"`);
          const ctx = {
            app,
            clock: deps.clock,
            settings: DEFAULT_JOB_SETTINGS,
            timeZone: deps.timeZone,
            log: deps.log,
          };
          const now = deps.clock.now();
          const slot = job.slot(now, ctx);
          output.push(`!job ${step.name}`);
          window = [];
          if (slot) await job.run(ctx, now, slot);
          await dispatcher.drain();
          break;
        }
      }
    }
  } finally {
    await app.stop();
  }
  return { ok: failures.length === 0, output, failures };
}
