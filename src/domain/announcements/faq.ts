import { fold } from "../../text/normalize.js";

/** " nhan hieu cua toi " — folded, punctuation gone, padded so that matches fall on word boundaries. */
function words(text: string): string {
  return ` ${fold(text)
    .replace(/[^a-z0-9]+/g, " ")
    .trim()} `;
}

/**
 * The frequent question a message is most likely about, or nothing. A keyword counts when its
 * words appear together in the message, with or without diacritics; a longer keyword weighs more
 * ("đăng ký nhãn hiệu" beats "đăng ký"), and on a tie the earlier question wins.
 * @example bestFaq("Dang ky nhan hieu o dau?", [{ keywords: ["nhãn hiệu"] }]) // → that entry
 */
export function bestFaq<T extends { keywords: readonly string[] }>(
  text: string,
  entries: readonly T[],
): T | undefined {
  const haystack = words(text);
  let best: T | undefined;
  let bestScore = 0;
  for (const entry of entries) {
    let score = 0;
    for (const keyword of entry.keywords) {
      const needle = words(keyword);
      if (needle.trim() && haystack.includes(needle)) score += needle.trim().split(" ").length;
    }
    if (score > bestScore) {
      best = entry;
      bestScore = score;
    }
  }
  return best;
}
