import { GrammyError, HttpError } from "grammy";
import { SendError } from "../../src/engine/channel.js";

/**
 * Telegram's failures in the outbox's vocabulary, so the dispatcher decides from the kind alone:
 * - 429 "Too Many Requests: retry after N" → rate_limited, with N seconds from parameters.retry_after;
 * - 403 "bot was blocked by the user" / "bot was kicked" / "user is deactivated" → blocked;
 * - 400 (chat not found, message too long, bad file id…) → bad_request: sending again cannot help;
 * - 5xx, timeouts and unreachable servers → network, retried with backoff;
 * - 401 (token revoked) and 404 (a wrong token or API root: Telegram answers 404 for a token it
 *   does not know) → unauthorized: a configuration fault, not the message's, so the outbox pauses
 *   the channel and tells the admins instead of spending attempts while the operator fixes it.
 */
export function toSendError(error: unknown): SendError {
  if (error instanceof SendError) return error;
  if (error instanceof GrammyError) {
    const what = `${error.method}: ${error.error_code} ${error.description}`;
    const retryAfter = error.parameters.retry_after;
    if (error.error_code === 429 || retryAfter !== undefined) {
      return new SendError("rate_limited", what, (retryAfter ?? 1) * 1000);
    }
    if (error.error_code === 403) return new SendError("blocked", what);
    if (error.error_code === 400) return new SendError("bad_request", what);
    if (error.error_code === 401 || error.error_code === 404) return new SendError("unauthorized", what);
    return new SendError("network", what);
  }
  if (error instanceof HttpError) return new SendError("network", error.message);
  return new SendError("network", error instanceof Error ? error.message : String(error));
}
