/**
 * Readers for JSON that claims to be a Bot API object. Telegram itself sends well-formed updates,
 * but the webhook is reachable by anyone holding the secret and a proxy can mangle bodies; a
 * field of the wrong shape must read as absent rather than throw, because a thrown update gets a
 * 500 and Telegram would deliver it again and again.
 */

export type Fields = Readonly<Record<string, unknown>>;

/** A JSON object (not an array, not null), or undefined. */
export function record(value: unknown): Fields | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Fields) : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** An array, or an empty one when the field is missing or not a list. */
export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * A Telegram identifier (user, chat, message) as the string we store. Telegram sends numbers;
 * a numeric string is accepted as the same id, anything else (objects such as `{"$gt": ""}`,
 * booleans, fractions) is no id at all.
 */
export function idOf(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? String(value) : undefined;
  if (typeof value === "string" && /^-?\d{1,20}$/.test(value)) return value;
  return undefined;
}
