/**
 * Reading Zalo's JSON without trusting its shape. The documentation samples and the real
 * payloads disagree (field names, numbers sent as strings, wrappers present or not), so every
 * field is read through these helpers: a wrong type gives `undefined`, never an exception, and
 * unknown fields are simply not looked at.
 */

export type JsonObject = Record<string, unknown>;

export function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** A string, or a finite number written as one: Zalo sends ids and times either way. */
export function asString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A number, or a string holding one ("90000" for expires_in, "1024000" for a file size). */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "") {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

/** The first of several spellings that is present as a non-empty string. */
export function firstString(object: JsonObject | undefined, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = asString(object?.[key]);
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

/** JSON.parse that answers `undefined` instead of throwing: bodies come from the network. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Epoch milliseconds from a Zalo time. The Bot Platform sends milliseconds (PLATFORMS.md, real
 * payloads); anything below 10^12 is read as seconds, in case a sample or a future version
 * differs.
 */
export function epochMs(value: unknown): number | undefined {
  const n = asNumber(value);
  if (n === undefined || n <= 0) return undefined;
  return n < 1e12 ? n * 1000 : n;
}
