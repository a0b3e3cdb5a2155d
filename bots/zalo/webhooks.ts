import type { Clock } from "../../src/clock.js";
import { sendJson, type HttpServer } from "../../src/http.js";
import type { Logger } from "../../src/log.js";
import { parseBotUpdate, type BotUpdate } from "./bot-api.js";
import { parseOaEvent, type OaEvent } from "./oa-api.js";
import { parseJson } from "./tolerant.js";
import { BOT_SECRET_HEADER, botSecretMatches, OA_SIGNATURE_HEADER, verifyOaRequest } from "./webhook-auth.js";

export const BOT_WEBHOOK_PATH = "/zalo/webhook";
export const OA_WEBHOOK_PATH = "/zalo-oa/webhook";

/**
 * The Bot Platform webhook. A request without our exact secret in X-Bot-Api-Secret-Token gets
 * 401 from its headers, its body never read. A genuine one is answered 200 once `onUpdate` resolves, i.e.
 * once the engine has recorded it (and handled it; the replies leave later through the outbox):
 * a 200 before the inbox write could lose an update if the process died, and Zalo would not
 * send it again.
 */
export function mountBotWebhook(
  http: HttpServer,
  options: { secret: string; onUpdate: (update: BotUpdate) => Promise<unknown>; log: Logger },
): void {
  http.route("POST", BOT_WEBHOOK_PATH, {
    // The secret is a header, so a forged call is refused before its body is read.
    authorize(req) {
      if (botSecretMatches(options.secret, req.headers[BOT_SECRET_HEADER])) return true;
      options.log.warn({ path: BOT_WEBHOOK_PATH }, "zalo: webhook request without the right secret");
      return false;
    },
    async handle(_req, res, body) {
      const raw = body.toString("utf8");
      const update = parseBotUpdate(parseJson(raw), raw);
      if (!update) {
        options.log.warn({ raw: raw.slice(0, 500) }, "zalo: webhook body is not an update");
        sendJson(res, 400, { ok: false });
        return;
      }
      await options.onUpdate(update);
      sendJson(res, 200, { ok: true });
    },
  });
}

/**
 * The Official Account webhook: the MAC is checked over the raw bytes before the event is read
 * (webhook-auth.ts); a forged, malformed or stale request gets 401. The MAC needs the body, so
 * here only the server's size cap and reader cap stand before the check. Answered 200 once
 * `onEvent` resolves, as above.
 */
export function mountOaWebhook(
  http: HttpServer,
  options: {
    appId: string;
    oaSecretKey: string;
    clock: Clock;
    onEvent: (event: OaEvent) => Promise<void>;
    log: Logger;
  },
): void {
  http.route("POST", OA_WEBHOOK_PATH, async (req, res, body) => {
    const check = verifyOaRequest({
      rawBody: body,
      header: req.headers[OA_SIGNATURE_HEADER],
      appId: options.appId,
      oaSecretKey: options.oaSecretKey,
      now: options.clock.now(),
    });
    if (!check.ok) {
      options.log.warn({ path: OA_WEBHOOK_PATH, reason: check.reason }, "zalo oa: webhook request refused");
      sendJson(res, 401, { error: -1, message: check.reason });
      return;
    }
    const event = parseOaEvent(check.body, body.toString("utf8"));
    if (event) await options.onEvent(event);
    sendJson(res, 200, { error: 0 });
  });
}
