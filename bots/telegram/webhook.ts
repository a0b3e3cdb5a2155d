import { createHash, timingSafeEqual } from "node:crypto";
import type { Update } from "grammy/types";
import { sendJson, type Route } from "../../src/http.js";
import type { Logger } from "../../src/log.js";

export const WEBHOOK_PATH = "/telegram/webhook";
const SECRET_HEADER = "x-telegram-bot-api-secret-token";

/**
 * Compares the header with the secret in constant time. Both sides are hashed first so that
 * timingSafeEqual gets equal lengths and the comparison does not leak the secret's length.
 */
export function secretMatches(given: string | string[] | undefined, secret: string): boolean {
  if (typeof given !== "string") return false;
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(given), digest(secret));
}

function isUpdate(value: unknown): value is Update {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { update_id?: unknown }).update_id === "number"
  );
}

export interface WebhookOptions {
  secret: string;
  /**
   * Resolves once the engine has handled the update (recorded it first, or committed a flow's step
   * with its replies sent or written); throws if it got not that far, and Telegram delivers it again.
   */
  handle: (update: Update) => Promise<void>;
  /** False after stop(): Telegram is told to come back later (it retries non-2xx answers). */
  open: () => boolean;
  log: Logger;
}

/**
 * POST /telegram/webhook. Anything without the exact secret header is refused with 401 from its
 * headers, before a byte of the body is read (the server's `authorize`). The 200 goes out once the
 * engine has handled the update (see UpdateHandler), so a failure before that point makes
 * Telegram deliver the update again.
 */
export function webhookRoute(options: WebhookOptions): Route {
  return {
    authorize(req) {
      if (secretMatches(req.headers[SECRET_HEADER], options.secret)) return true;
      options.log.warn({ ip: req.socket.remoteAddress }, "telegram: webhook call without the right secret");
      return false;
    },
    async handle(_req, res, body) {
      if (!options.open()) {
        sendJson(res, 503, { error: "stopping" });
        return;
      }
      let update: unknown;
      try {
        update = JSON.parse(body.toString("utf8"));
      } catch {
        sendJson(res, 400, { error: "body is not JSON" });
        return;
      }
      if (!isUpdate(update)) {
        sendJson(res, 400, { error: "not a Telegram update" });
        return;
      }
      await options.handle(update);
      sendJson(res, 200, { ok: true });
    },
  };
}
