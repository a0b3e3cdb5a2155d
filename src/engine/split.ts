/**
 * Splits a long message into parts of at most `limit` UTF-16 code units (Telegram 4096, Zalo
 * 2000), cutting between paragraphs if it can, else between lines, else between words. A word
 * longer than the limit is the only thing ever cut, and never inside a surrogate pair.
 * @example splitText("a\n\nb", 2) // ["a", "b"]
 */
export function splitText(text: string, limit: number): string[] {
  if (limit < 2) throw new RangeError("limit must be at least 2");
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1);
    let cut = -1;
    for (const separator of ["\n\n", "\n", " "]) {
      const at = window.lastIndexOf(separator);
      if (at > 0) {
        cut = at;
        break;
      }
    }
    if (cut <= 0) {
      cut = limit;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // keep a surrogate pair together
    }
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}
