import { fold, foldWords } from "../text/normalize.js";
import { t } from "../text/vi.js";
import type { Choice } from "./message.js";

/**
 * How a typed answer reads against the options of a step: one option, several (asked again),
 * or none — with the number typed when it was a number out of range.
 */
export type ChoiceReading =
  | { kind: "picked"; choice: Choice }
  | { kind: "ambiguous"; candidates: Choice[] }
  | { kind: "none"; number?: number };

/**
 * Words that turn what follows into its opposite. "ko", "k" and "kg" are how "không" is typed in
 * a hurry, so they read as "không"; "chưa", "chẳng", "chả" keep their own meaning.
 */
const NEGATION_SPELLINGS: Record<string, string> = { khong: "khong", ko: "khong", k: "khong", kg: "khong" };
const NEGATIONS = new Set(["khong", "chua", "chang", "cha"]);
const isNegation = (word: string | undefined) => word !== undefined && NEGATIONS.has(word);

function words(text: string): string[] {
  return foldWords(text).map((word) => NEGATION_SPELLINGS[word] ?? word);
}

/** A label as the matcher compares it. */
interface Shape {
  words: string[];
  /** All words run together: "KHCN" still names "KH&CN", "NDCP" names "NĐ-CP". */
  joined: string;
  /** Without a leading list number: "Hài lòng" names "4 — Hài lòng". */
  core: string[];
}

function shape(label: string): Shape {
  const all = words(label);
  const numbered = /^\s*\d+\s*[—–\-.):]/.test(label);
  return { words: all, joined: all.join(""), core: numbered ? all.slice(1) : all };
}

const same = (a: string[], b: string[]) => a.length === b.length && a.every((word, i) => word === b[i]);

/**
 * Whether the typed words all appear in the label, as whole words and in order, with the same
 * sense: a word the label negates ("đạt" in "Không đạt") must be negated in what was typed, and
 * the other way round; and every negation in the label up to the last matched word must itself
 * be matched, so "nêu lý do" cannot pick "Không thụ lý (nêu lý do)".
 */
function wholeWordsMatch(typed: string[], label: string[]): boolean {
  const negatedAt = (list: string[], i: number) => i > 0 && isNegation(list[i - 1]);
  const fits = (positions: number[]): boolean => {
    const last = positions[positions.length - 1] ?? -1;
    for (let q = 0; q <= last; q += 1) {
      if (isNegation(label[q]) && !positions.includes(q)) return false;
    }
    return positions.every((p, i) => {
      if (isNegation(typed[i])) return true;
      const inLabel = negatedAt(label, p);
      if (inLabel !== negatedAt(typed, i)) return false;
      return !inLabel || positions[i - 1] === p - 1;
    });
  };
  // Labels are a few words long: trying every in-order placement is cheap and finds the one
  // that keeps the sense when a word occurs twice.
  const search = (i: number, from: number, positions: number[]): boolean => {
    if (i === typed.length) return fits(positions);
    for (let p = from; p < label.length; p += 1) {
      if (label[p] === typed[i] && search(i + 1, p + 1, [...positions, p])) return true;
    }
    return false;
  };
  return typed.length > 0 && search(0, 0, []);
}

function settle(candidates: Choice[]): ChoiceReading | undefined {
  if (candidates.length === 1 && candidates[0]) return { kind: "picked", choice: candidates[0] };
  if (candidates.length > 1) return { kind: "ambiguous", candidates };
  return undefined;
}

/**
 * Reads an answer against the offered choices. A pressed button sends its value; where a
 * platform has no buttons the person types the number, the label (case, diacritics, đ,
 * punctuation and dashes aside), or whole words that name exactly one option without turning
 * its sense around: "đạt" never picks "Không đạt", "không" alone picks only an option that is
 * exactly "Không". Anything that could mean two options is asked again.
 * @example readChoice({ text: "khieu nai" }, [{ label: "Khiếu nại — đề nghị xem xét lại", value: "kn" }]) // picked
 */
export function readChoice(input: { text: string; choice?: string }, choices: Choice[]): ChoiceReading {
  if (input.choice !== undefined) {
    const pressed = choices.find((c) => c.value === input.choice);
    if (pressed) return { kind: "picked", choice: pressed };
  }
  const text = input.text.trim();
  const numbered = /^(\d{1,3})\s*[.)]?$/.exec(text);
  if (numbered) {
    const number = Number.parseInt(numbered[1] ?? "", 10);
    const choice = choices[number - 1];
    return choice ? { kind: "picked", choice } : { kind: "none", number };
  }
  const typed = words(text);
  if (typed.length === 0) return { kind: "none" };
  const shapes = choices.map((choice) => ({ choice, ...shape(choice.label) }));
  const key = fold(text);
  const exact = settle(
    shapes
      .filter(
        (s) =>
          same(typed, s.words) ||
          same(typed, s.core) ||
          typed.join("") === s.joined ||
          fold(s.choice.value) === key,
      )
      .map((s) => s.choice),
  );
  if (exact) return exact;
  // A bare "không" or "chưa" answers a yes/no question only where an option says exactly that;
  // a number that is not a plain "2" or "2." ("-1", "1 2") picks nothing.
  if (typed.every((word) => isNegation(word) || /^\d+$/.test(word))) return { kind: "none" };
  // A list number is no word of the label: "1" is not a piece of "1 — Không hài lòng".
  return (
    settle(shapes.filter((s) => wholeWordsMatch(typed, s.core)).map((s) => s.choice)) ?? { kind: "none" }
  );
}

/**
 * The choice a person meant, or undefined when the answer names none or could name several.
 * @example matchChoice({ text: "2" }, [{label:"Có",value:"yes"},{label:"Không",value:"no"}]) // → Không
 */
export function matchChoice(input: { text: string; choice?: string }, choices: Choice[]): Choice | undefined {
  const reading = readChoice(input, choices);
  return reading.kind === "picked" ? reading.choice : undefined;
}

/** Past this many options the numbered list under the prompt says it better than one line. */
const LISTED = 6;
const ECHO = 40;

/**
 * What to say before asking again when an answer picked no option: which options there are, or
 * which ones the answer could mean.
 * @example choiceRetry({ text: "Đạt" }, [{ label: "Không đạt", value: "failed" }])
 * // → '"Đạt" không phải là lựa chọn ở bước này. Lựa chọn ở bước này: Không đạt (gõ 1).'
 */
export function choiceRetry(input: { text: string; choice?: string }, choices: Choice[]): string {
  // A list that came out empty (no units loaded yet): "type 1 to 0" would be nonsense.
  if (choices.length === 0) return t.engine.noChoices;
  const reading = readChoice(input, choices);
  // "4 — Hài lòng" already carries its number.
  const numbered = (c: Choice) => {
    const n = choices.indexOf(c) + 1;
    return c.label.trim().startsWith(String(n)) ? c.label : `${n}. ${c.label}`;
  };
  const typed = Array.from(input.text.trim().replace(/\s+/g, " "));
  const echo = typed.length > ECHO ? `${typed.slice(0, ECHO - 1).join("")}…` : typed.join("");
  if (reading.kind === "ambiguous") return t.engine.ambiguousChoice(echo, reading.candidates.map(numbered));
  if (reading.kind === "none" && reading.number !== undefined) {
    return t.engine.noSuchNumber(reading.number, choices.length);
  }
  if (!echo) return t.engine.pickOne(choices.length);
  const offered = choices.length <= LISTED ? choices.map(numbered) : [];
  return t.engine.notAnOption(echo, offered, choices.length);
}
