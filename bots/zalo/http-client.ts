import { parseJson } from "./tolerant.js";

/** What came back from a Zalo endpoint: the status, the body as text, and its JSON if it had any. */
export interface HttpReply {
  status: number;
  /** The body exactly as received, kept for diagnosis when a payload surprises us. */
  raw: string;
  json: unknown;
}

/**
 * The request never reached Zalo, or no answer came back in time. Retrying may help, so the
 * sender maps it onto the "network" kind. The message never contains the URL: the Bot Platform
 * puts the bot token in the path.
 */
export class ZaloNetworkError extends Error {
  override name = "ZaloNetworkError";
  constructor(
    readonly endpoint: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${endpoint}: ${message}`, options);
  }
}

/**
 * A call to Zalo that has not answered after this long fails as "network" and the outbox tries it
 * again later. Well under the outbox's 60 s claim lease: a send still in flight when its claim
 * runs out would be taken over by another instance and sent twice.
 */
export const DEFAULT_TIMEOUT_MS = 20_000;

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface PostOptions {
  /** A name for the logs and errors, e.g. "sendMessage"; never the URL (it holds the token). */
  endpoint: string;
  headers?: Record<string, string>;
  /** JSON or form text; FormData for an upload (fetch sets its multipart boundary). */
  body: string | FormData;
  timeoutMs: number;
  /** Cancels the request early (long polling stops at shutdown). */
  signal?: AbortSignal;
  fetch?: FetchLike;
}

/** One POST with a deadline. HTTP errors are returned, not thrown: each API reads its own. */
export async function post(url: string, options: PostOptions): Promise<HttpReply> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: "POST",
      headers: options.headers ?? {},
      body: options.body,
      signal,
    });
  } catch (error) {
    const reason = timeout.aborted ? `no answer within ${options.timeoutMs} ms` : describe(error);
    throw new ZaloNetworkError(options.endpoint, reason, { cause: error });
  }
  let raw: string;
  try {
    raw = await response.text();
  } catch (error) {
    throw new ZaloNetworkError(options.endpoint, `reading the answer: ${describe(error)}`, { cause: error });
  }
  return { status: response.status, raw, json: parseJson(raw) };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    return typeof cause?.code === "string" ? `${error.message} (${cause.code})` : error.message;
  }
  return String(error);
}

/** The first 500 characters of a body, for an error message. */
export function excerpt(raw: string): string {
  return raw.length > 500 ? `${raw.slice(0, 500)}…` : raw;
}
