import type { Choice } from "../../src/engine/message.js";
import { t } from "../../src/text/vi.js";

/**
 * Zalo has no buttons (neither the Bot Platform nor a consultation message), so choices become
 * numbered lines under the text, with the hint that the number or the words are accepted — the
 * engine's matchChoice takes "2", "2.", the label, or the label without diacritics.
 * @example renderText("Chọn:", [{ label: "Có", value: "y" }]) // "Chọn:\n\n1. Có\n" + numberedHint
 */
export function renderText(text: string, choices: readonly Choice[]): string {
  if (choices.length === 0) return text;
  const lines = choices.map((choice, index) => `${index + 1}. ${choice.label}`);
  return `${text}\n\n${lines.join("\n")}\n${t.channels.numberedHint}`;
}
