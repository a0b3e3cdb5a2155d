import type { KillSnapshot, World } from "./world.js";

/** What a run left behind: messages per chat in delivery order, and the records people rely on. */
export interface Observed {
  messages: Map<string, string[]>;
  records: Map<string, string[]>;
}

/** The collections whose documents must come out the same, each once. */
const RECORDS = ["tickets", "reports", "dvk_models", "invites", "broadcasts"];
const SEND_METHODS = new Set(["sendMessage", "sendPhoto", "sendDocument"]);

/**
 * Codes drawn anew in each run (PA-2026-000123, MH-2025-001, TB-X7K2QM) and clock times (a
 * ticket's "Ngày nhận: 30/11/2026 09:41") are the same thing in two runs.
 */
export function normalize(text: string): string {
  return text
    .replace(/\b[A-Z]{2,4}-(?:\d{4}-\d{3,6}|[A-Z0-9]{6})\b/g, "{code}")
    .replace(/\b\d{1,2}:\d{2}\b/g, "{time}");
}

/**
 * A document reduced to what two runs of the same conversation share: dates and ids only as
 * "there is one" (a used invite has a usedAt, an unused one none), no sealed bytes, no codes or
 * keys drawn at random or made from update ids.
 */
function prune(value: unknown, key = ""): unknown {
  if (/^_id$|^__v$|Sealed$|Hash$|^code$|^updates?$|^(idempotency|content|dedupe)Key$/.test(key))
    return undefined;
  if (value instanceof Date) return "<date>";
  if (Array.isArray(value)) return value.map((item) => prune(item));
  if (value && typeof value === "object") {
    if ((value as { _bsontype?: string })._bsontype) return "<id>";
    const entries = Object.entries(value)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, prune(v, k)] as const)
      .filter(([, v]) => v !== undefined);
    return Object.fromEntries(entries);
  }
  // A field sealed with the data key (src/privacy/sealer.ts: s1.<keyId>.<iv>.<tag>.<ciphertext>)
  // differs in every run by its random iv, whatever it holds.
  if (typeof value === "string" && SEALED.test(value)) return "<sealed>";
  return typeof value === "string" ? normalize(value) : value;
}

const SEALED = /^s1\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]*$/;

export async function observe(world: World): Promise<Observed> {
  const messages = new Map<string, string[]>();
  for (const call of world.platforms.telegram.calls) {
    if (!SEND_METHODS.has(call.method) || !call.ok) continue;
    const chat = String(call.params.chat_id ?? "");
    messages.set(chat, [
      ...(messages.get(chat) ?? []),
      normalize(String(call.params.text ?? call.params.caption ?? "")),
    ]);
  }
  const records = new Map<string, string[]>();
  for (const name of RECORDS) {
    const docs = await world.direct.collection(name).find().toArray();
    records.set(name, docs.map((doc) => JSON.stringify(prune(doc))).sort());
  }
  return { messages, records };
}

export interface Verdict {
  lost: string[];
  doubled: string[];
  /** Repeats of a message the platform had accepted when the bot was killed before recording it. */
  window: string[];
  /** Messages the fault-free run did not send (an apology, a refusal); shown, not counted. */
  other: string[];
}

function counts(items: string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const item of items) map.set(item, (map.get(item) ?? 0) + 1);
  return map;
}

function short(text: string): string {
  const line = text.replace(/\s+/g, " ");
  return line.length > 70 ? `${line.slice(0, 70)}…` : line;
}

/** Whether `wanted` appears in `seen` in its order (other messages may sit between). */
function inOrder(wanted: string[], seen: string[]): boolean {
  let at = 0;
  for (const text of seen) if (text === wanted[at]) at += 1;
  return at >= wanted.length;
}

/** How many copies of `text` to `chat` the platform had taken that the outbox had not recorded as sent, at each kill. */
function unrecorded(kills: KillSnapshot[], chat: string, text: string): number {
  let total = 0;
  for (const kill of kills) {
    const delivered = (kill.delivered.get(chat) ?? []).filter((t) => normalize(t) === text).length;
    const recorded = (kill.recordedSent.get(chat) ?? []).filter((t) => normalize(t) === text).length;
    total += Math.max(0, delivered - recorded);
  }
  return total;
}

/** The run against the fault-free run of the same scenario. */
export function judge(base: Observed, run: Observed, kills: KillSnapshot[]): Verdict {
  const verdict: Verdict = { lost: [], doubled: [], window: [], other: [] };
  const chats = new Set([...base.messages.keys(), ...run.messages.keys()]);
  for (const chat of chats) {
    const wanted = base.messages.get(chat) ?? [];
    const seen = run.messages.get(chat) ?? [];
    const want = counts(wanted);
    const got = counts(seen);
    for (const [text, n] of want) {
      const have = got.get(text) ?? 0;
      if (have < n)
        verdict.lost.push(`chat ${chat} never got "${short(text)}"${n - have > 1 ? ` ×${n - have}` : ""}`);
      if (have > n) {
        const window = Math.min(have - n, unrecorded(kills, chat, text));
        for (let i = 0; i < window; i += 1) verdict.window.push(`chat ${chat} got "${short(text)}" again`);
        for (let i = window; i < have - n; i += 1)
          verdict.doubled.push(`chat ${chat} got "${short(text)}" twice`);
      }
    }
    for (const [text] of got) if (!want.has(text)) verdict.other.push(`chat ${chat} got "${short(text)}"`);
    if (verdict.lost.length === 0 && !inOrder(wanted, seen)) {
      const order = seen.map((text) => `"${short(text).slice(0, 30)}"`).join(", ");
      verdict.lost.push(`chat ${chat} got its messages out of order: ${order}`);
    }
  }
  for (const [name, wanted] of base.records) {
    const want = counts(wanted);
    const got = counts(run.records.get(name) ?? []);
    for (const [doc, n] of want) {
      const have = got.get(doc) ?? 0;
      if (have < n) verdict.lost.push(`${name}: ${short(doc)} missing`);
      if (have > n) verdict.doubled.push(`${name}: ${short(doc)} ×${have}`);
    }
    // A document the fault-free run has none of is a second one when there are more than there
    // should be, and otherwise the missing one in another state (counted as lost above).
    const more = (run.records.get(name) ?? []).length > wanted.length;
    for (const [doc, n] of got) {
      if (want.has(doc)) continue;
      (more ? verdict.doubled : verdict.other).push(
        `${name}: ${more ? "unexpected" : "instead"} ${short(doc)}${n > 1 ? ` ×${n}` : ""}`,
      );
    }
  }
  return verdict;
}
