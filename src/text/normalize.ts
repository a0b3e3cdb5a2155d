/**
 * Vietnamese text arrives in NFC or NFD, with or without diacritics, sometimes with control
 * characters pasted in. Everything the engine reads goes through `cleanInput`; everything it
 * compares goes through `fold`.
 */

// C0/C1 controls except tab and newline, and the bidi overrides that can disguise text.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/** NFC, no control characters, CRLF → LF, trimmed, at most `maxLength` characters. */
export function cleanInput(text: string, maxLength = 4000): string {
  const normalized = text.normalize("NFC").replace(/\r\n?/g, "\n").replace(UNSAFE, "").trim();
  return Array.from(normalized).slice(0, maxLength).join("");
}

/**
 * A comparison key: lower case, no diacritics, đ → d, spaces collapsed.
 * @example fold("  Hoàn THÀNH ") === "hoan thanh"
 */
export function fold(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[đĐ]/g, "d")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * The whole words of a text, folded, for matching a typed answer against a label. Punctuation
 * and dashes separate words ("Tiêu chuẩn – đo lường" is four words), except marks that hold a
 * word together: "KH&CN", "III.2", "II.2-3" stay one word each, so "II.2" is never a prefix
 * of "II.2-3".
 * @example foldWords("Phòng Kế hoạch – Tài chính (KH&CN)") // ["phong", "ke", "hoach", "tai", "chinh", "khcn"]
 */
export function foldWords(text: string): string[] {
  return fold(text)
    .replace(/(?<=[\p{L}\p{N}])[.&'’_](?=[\p{L}\p{N}])/gu, "")
    .replace(/(?<=\p{N})[-–,](?=\p{N})/gu, "")
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

export interface ParsedCommand {
  /** Lower-case, without the slash or a trailing @botname. */
  name: string;
  /** The text after the command, trimmed. */
  args: string;
}

/**
 * `/start ABC`, `/Help@MyBot` → a command; anything else → undefined.
 * @example parseCommand("/tracuu PA-2025-000123") // { name: "tracuu", args: "PA-2025-000123" }
 */
export function parseCommand(text: string): ParsedCommand | undefined {
  const match = /^\/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return undefined;
  return { name: (match[1] ?? "").toLowerCase(), args: (match[2] ?? "").trim() };
}
