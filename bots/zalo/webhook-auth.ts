import { createHash, timingSafeEqual } from "node:crypto";
import { asObject, asString, epochMs, firstString, parseJson } from "./tolerant.js";

/**
 * Is this request from Zalo? Both checks run on the raw request before anything reads the event.
 */

/** The header the Bot Platform puts the setWebhook secret in, as is (no HMAC). */
export const BOT_SECRET_HEADER = "x-bot-api-secret-token";
/** The header the OA webhook signs its events in. */
export const OA_SIGNATURE_HEADER = "x-zevent-signature";

function sha256(...parts: (string | Buffer)[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/**
 * True when the Bot Platform's header carries exactly our secret. Compared in constant time over
 * digests, so neither the content nor the length of the secret leaks through timing.
 */
export function botSecretMatches(expected: string, header: string | string[] | undefined): boolean {
  const received = Array.isArray(header) ? header[0] : header;
  if (typeof received !== "string" || received === "") return false;
  return timingSafeEqual(sha256(expected), sha256(received));
}

/**
 * How old an OA event may be. Zalo retries a delivery that did not get a 200 for about two
 * hours (30 s, 5 min, 15 min, 30 min, 1 h — github:hoangnd25/monorepo
 * wip/zalo-platform-integration.md, from developers.zalo.me; whether a retry carries the original
 * timestamp is not documented), so a shorter window could drop real events we failed to take
 * the first time. A replay inside the window does no harm: the signature covers the msg_id,
 * and the inbox records each msg_id once.
 */
export const OA_MAX_AGE_MS = 2 * 60 * 60_000;
/** Clocks disagree a little; an event from further in the future than this is not Zalo's. */
export const OA_MAX_SKEW_MS = 5 * 60_000;

export type OaCheck =
  | { ok: true; body: unknown }
  | { ok: false; reason: "no signature" | "malformed" | "forged" | "wrong app" | "stale" };

/**
 * Verifies an OA webhook request: `X-ZEvent-Signature` must be "mac=" + hex SHA-256 of
 * app_id + raw body + timestamp + OA secret key — a plain hash, not an HMAC (PLATFORMS.md,
 * developers.zalo.me webhook docs). The hash runs over the exact bytes received, never over
 * re-serialized JSON; the body is parsed only to read its timestamp. Our own app id is used, and
 * a body naming another app is refused. Then the timestamp must be within OA_MAX_AGE_MS.
 */
export function verifyOaRequest(input: {
  rawBody: Buffer;
  header: string | string[] | undefined;
  appId: string;
  oaSecretKey: string;
  now: Date;
}): OaCheck {
  const header = Array.isArray(input.header) ? input.header[0] : input.header;
  if (!header) return { ok: false, reason: "no signature" };
  const mac = /^(?:mac=)?([0-9a-fA-F]{64})$/.exec(header.trim())?.[1]?.toLowerCase();
  if (!mac) return { ok: false, reason: "malformed" };
  const body = parseJson(input.rawBody.toString("utf8"));
  const event = asObject(body);
  const timestamp = asString(event?.timestamp);
  if (!event || !timestamp) return { ok: false, reason: "malformed" };
  const expected = sha256(input.appId, input.rawBody, timestamp, input.oaSecretKey);
  if (!timingSafeEqual(expected, Buffer.from(mac, "hex"))) return { ok: false, reason: "forged" };
  const bodyApp = firstString(event, "app_id");
  if (bodyApp !== undefined && bodyApp !== input.appId) return { ok: false, reason: "wrong app" };
  const at = epochMs(timestamp);
  const now = input.now.getTime();
  if (at === undefined || at < now - OA_MAX_AGE_MS || at > now + OA_MAX_SKEW_MS) {
    return { ok: false, reason: "stale" };
  }
  return { ok: true, body };
}
