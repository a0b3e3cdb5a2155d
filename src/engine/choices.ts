import { fold } from "../text/normalize.js";
import type { Choice } from "./message.js";

/**
 * Finds the choice a person meant. A pressed button sends its value; where a platform has no
 * buttons the person types the number, the label, or the label without diacritics.
 * @example matchChoice({ text: "2" }, [{label:"Có",value:"yes"},{label:"Không",value:"no"}]) // → Không
 */
export function matchChoice(input: { text: string; choice?: string }, choices: Choice[]): Choice | undefined {
  if (input.choice !== undefined) {
    const pressed = choices.find((c) => c.value === input.choice);
    if (pressed) return pressed;
  }
  const text = input.text.trim();
  if (/^\d{1,2}\.?$/.test(text)) {
    return choices[Number.parseInt(text, 10) - 1];
  }
  const key = fold(text);
  if (!key) return undefined;
  const exact = choices.find((c) => fold(c.label) === key || fold(c.value) === key);
  if (exact) return exact;
  // "khieu nai" for "Khiếu nại — ...": a unique prefix of a label is enough; failing that,
  // "chuyen doi so" for "Phòng Chuyển đổi số": a unique label containing the words.
  if (key.length >= 2) {
    const prefixed = choices.filter((c) => fold(c.label).startsWith(key));
    if (prefixed.length === 1) return prefixed[0];
  }
  if (key.length >= 3) {
    const containing = choices.filter((c) => ` ${fold(c.label)} `.includes(` ${key} `));
    if (containing.length === 1) return containing[0];
  }
  return undefined;
}
