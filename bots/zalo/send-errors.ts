import { SendError } from "../../src/engine/channel.js";
import { ZaloBotApiError } from "./bot-api.js";
import { ZaloNetworkError } from "./http-client.js";
import { OA_ERRORS, ZaloOaApiError } from "./oa-api.js";

/** No OA access token can be had now (refresh failing); admins have been told. */
export class OaTokenUnavailable extends Error {
  override name = "OaTokenUnavailable";
}

/** How long to wait when Zalo says slow down without saying for how long. */
const SLOW_DOWN_MS = 60_000;
/** An exhausted quota: try again later rather than lose the message. Zalo does not say when. */
const QUOTA_WAIT_MS = 60 * 60_000;
/** No OA token: messages wait for the refresh (or the operator) instead of dying. */
export const TOKEN_WAIT_MS = 5 * 60_000;

const OA_UNREACHABLE: readonly number[] = [
  OA_ERRORS.notFollowing,
  OA_ERRORS.userInactive,
  OA_ERRORS.windowClosed,
  OA_ERRORS.noInteraction,
  OA_ERRORS.userRestricted,
];

/**
 * Zalo's failures onto the kinds the outbox dispatcher acts on:
 * - rate_limited (wait, attempt not spent): Bot Platform 429 — undocumented, assumed
 *   Telegram-like, honouring `parameters.retry_after` — OA -32 "reached limit call api" (per
 *   minute: wait a minute), OA quotas -211/-218 (wait an hour), and no OA token (wait for the
 *   refresh: the admins' alert says these messages are waiting);
 * - blocked (give up, and stop writing to that chat until the person writes again): Bot
 *   Platform 403 (assumed), OA -213 not following, -227 inactive, -230/-232 outside the window
 *   in which an OA may write, -244 refused this kind of message. The person writing again is
 *   exactly what reopens the window;
 * - network (retry with capped back-off until the message is too old): no answer, HTTP 5xx,
 *   Bot Platform 408;
 * - unauthorized (the channel pauses, admins are told, nothing is spent): Bot Platform 401, a
 *   refused bot token. Not 404: Zalo answers 404 for other things too (getWebhookInfo with no
 *   webhook), and a pause on a fault of one message would stop the channel for good. The OA's
 *   token problems stay rate_limited: the token keeper refreshes them and alerts the admins;
 * - bad_request (give up at once, with Zalo's description as the reason): everything else.
 */
export function toSendError(error: unknown): SendError {
  if (error instanceof SendError) return error;
  if (error instanceof ZaloNetworkError) return new SendError("network", error.message);
  if (error instanceof OaTokenUnavailable) {
    return new SendError("rate_limited", `zalo oa: no access token (${error.message})`, TOKEN_WAIT_MS);
  }
  if (error instanceof ZaloBotApiError) {
    const what = `zalo bot ${error.method}: ${error.errorCode} ${error.description}`;
    if (error.errorCode === 429 || error.httpStatus === 429) {
      const wait = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : SLOW_DOWN_MS;
      return new SendError("rate_limited", what, wait);
    }
    if (error.errorCode === 403) return new SendError("blocked", what);
    if (error.errorCode === 401 || error.httpStatus === 401) return new SendError("unauthorized", what);
    if (error.errorCode === 408 || error.httpStatus >= 500) {
      return new SendError("network", what);
    }
    return new SendError("bad_request", what);
  }
  if (error instanceof ZaloOaApiError) {
    const what = `zalo oa ${error.endpoint}: ${error.code} ${error.description}`;
    if (error.code === OA_ERRORS.rateLimited) return new SendError("rate_limited", what, SLOW_DOWN_MS);
    if (error.code === OA_ERRORS.outOfQuota || error.code === OA_ERRORS.userQuota) {
      return new SendError("rate_limited", what, QUOTA_WAIT_MS);
    }
    if (error.isTokenProblem) return new SendError("rate_limited", what, TOKEN_WAIT_MS);
    if (OA_UNREACHABLE.includes(error.code)) return new SendError("blocked", what);
    if (error.httpStatus >= 500) return new SendError("network", what);
    return new SendError("bad_request", what);
  }
  return new SendError("network", error instanceof Error ? error.message : String(error));
}
