import { DEFAULT_TIMEOUT_MS, excerpt, post, type FetchLike } from "./http-client.js";
import { asNumber, asObject, asString, firstString, type JsonObject } from "./tolerant.js";

/**
 * A typed client for the Zalo Official Account (OA) API v3 and its OAuth v4 token endpoint.
 *
 * What it relies on, and where that comes from (../shared/PLATFORMS.md, read from the official
 * developers.zalo.me pages; codes cross-checked with github:hoangnd25/monorepo
 * wip/zalo-platform-integration.md, which cites developers.zalo.me, and a reference written
 * against the Zalo developer community, developers.zalo.me/community/detail/d546eda3d1e638b861f7):
 * - Consultation ("cs") text: `POST https://openapi.zalo.me/v3.0/oa/message/cs`, header
 *   `access_token`, body `{recipient:{user_id}, message:{text}}`, answer
 *   `{error:0, message:"Success", data:{message_id, user_id}}`. Text ≤ 2000. Free only within
 *   the window after the user last wrote (48 h free, paid up to 7 days: -230/-232 outside it).
 * - Errors come inside HTTP 200 as `{error:<negative>, message}`; an expired token may also come
 *   as HTTP 401.
 * - Token refresh: `POST https://oauth.zaloapp.com/v4/oa/access_token`, header `secret_key`
 *   (the APP secret key), form fields `refresh_token`, `app_id`, `grant_type=refresh_token`;
 *   answer `{access_token, refresh_token, expires_in:"90000"}` (a string of seconds; about 25 h).
 *   The refresh token lives about 3 months and can be used ONCE; reusing one answers -14020.
 *   Failures may also be HTTP 200, with `error`, `error_name`, `error_description`.
 * - Pictures and files (Zalo's "Gửi tin Tư vấn đính kèm ảnh / file", cross-checked with the
 *   integrations cited in wip/zalo-platform-integration.md and public OA clients): a picture is a
 *   consultation message `{text?, attachment:{type:"template", payload:{template_type:"media",
 *   elements:[{media_type:"image", url | attachment_id}]}}}`; a picture not on a public URL is
 *   first uploaded to `POST /v2.0/oa/upload/image` (multipart field `file`, JPG or PNG, at most
 *   1 MB) → `data.attachment_id`. A file is `{attachment:{type:"file", payload:{token}}}` after
 *   `POST /v2.0/oa/upload/file` (PDF, DOC or DOCX only, at most 5 MB) → `data.token`. Both
 *   uploads take the `access_token` header and answer errors as `{error:<negative>, message}`.
 *   Whether `text` is required beside a picture is documented both ways: it is sent when the
 *   file has a name (*verify* against the live API).
 */

export const OA_API_BASE = "https://openapi.zalo.me";

/** What the OA's uploads take (sources above): pictures up to 1 MB, files up to 5 MB. */
export const OA_UPLOAD_LIMITS = {
  image: {
    maxBytes: 1024 * 1024,
    types: { ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png" },
  },
  file: {
    maxBytes: 5 * 1024 * 1024,
    types: {
      ".pdf": "application/pdf",
      ".doc": "application/msword",
      ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    },
  },
} as const;

/** Where a picture in a consultation message comes from: a public URL, or an upload's id. */
export type OaImage = { url: string } | { attachmentId: string };
export const OAUTH_BASE = "https://oauth.zaloapp.com";

/** The OA error codes this adapter acts on (sources above). */
export const OA_ERRORS = {
  /** "Your application reached limit call api" — per minute, no wait time given. */
  rateLimited: -32,
  /** "Out of quota" (the OA's message quota). */
  outOfQuota: -211,
  /** "User has not followed OA". */
  notFollowing: -213,
  /** "Access token is invalid". */
  tokenInvalid: -216,
  /** "Out of quota receive": too many messages to this user. */
  userQuota: -218,
  /** "access_token is expired or removed". */
  tokenExpired: -220,
  /** "User is banned or inactive for more than 45 days". */
  userInactive: -227,
  /** "User has not interacted with the OA in the past 7 days". */
  windowClosed: -230,
  /** "User has not interacted, or the last interaction expired". */
  noInteraction: -232,
  /** "User has restricted this message type from your OA". */
  userRestricted: -244,
  /** OAuth: the refresh token was already used (or expired). */
  refreshTokenUsed: -14020,
} as const;

export class ZaloOaApiError extends Error {
  override name = "ZaloOaApiError";
  constructor(
    readonly endpoint: string,
    /** Zalo's negative code, or the HTTP status when the body had none. */
    readonly code: number,
    readonly description: string,
    readonly httpStatus: number,
    readonly raw: string,
  ) {
    super(`zalo oa ${endpoint}: ${code} ${description}`);
  }

  /** The access token is expired or revoked: refresh, then try once more. */
  get isTokenProblem(): boolean {
    return (
      this.httpStatus === 401 || this.code === OA_ERRORS.tokenInvalid || this.code === OA_ERRORS.tokenExpired
    );
  }
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Seconds, from the string Zalo sends. */
  expiresInSeconds: number;
}

export interface OaApiOptions {
  /** Defaults to OA_API_BASE / OAUTH_BASE; tests point them at a local fake. */
  baseUrl?: string;
  oauthUrl?: string;
  timeoutMs?: number;
  fetch?: FetchLike;
}

export class ZaloOaApi {
  private readonly base: string;
  private readonly oauth: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: OaApiOptions = {}) {
    this.base = (options.baseUrl ?? OA_API_BASE).replace(/\/+$/, "");
    this.oauth = (options.oauthUrl ?? OAUTH_BASE).replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private async send(
    endpoint: string,
    url: string,
    headers: Record<string, string>,
    body: string | FormData,
  ): Promise<{ body: JsonObject | undefined; status: number; raw: string }> {
    const reply = await post(url, {
      endpoint,
      headers,
      body,
      timeoutMs: this.timeoutMs,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    return { body: asObject(reply.json), status: reply.status, raw: reply.raw };
  }

  /** Sends a consultation text; returns Zalo's message id. */
  sendText(accessToken: string, userId: string, text: string): Promise<{ messageId?: string }> {
    return this.sendMessage(accessToken, userId, { text });
  }

  /** Sends a picture, by its public URL or an upload's attachment id, with an optional caption. */
  sendImage(
    accessToken: string,
    userId: string,
    image: OaImage,
    text?: string,
  ): Promise<{ messageId?: string }> {
    const element: JsonObject =
      "url" in image
        ? { media_type: "image", url: image.url }
        : { media_type: "image", attachment_id: image.attachmentId };
    return this.sendMessage(accessToken, userId, {
      ...(text ? { text } : {}),
      attachment: { type: "template", payload: { template_type: "media", elements: [element] } },
    });
  }

  /** Sends a file uploaded with uploadFile, by its token. */
  sendFile(accessToken: string, userId: string, fileToken: string): Promise<{ messageId?: string }> {
    return this.sendMessage(accessToken, userId, {
      attachment: { type: "file", payload: { token: fileToken } },
    });
  }

  /** Uploads a JPG or PNG (≤ 1 MB); returns the attachment id a picture message names. */
  async uploadImage(accessToken: string, file: Blob, name: string): Promise<string> {
    const data = await this.upload("upload/image", accessToken, file, name);
    const id = firstString(data, "attachment_id");
    if (!id)
      throw new ZaloOaApiError(
        "upload/image",
        -1,
        "no attachment_id in the answer",
        200,
        JSON.stringify(data),
      );
    return id;
  }

  /** Uploads a PDF, DOC or DOCX (≤ 5 MB); returns the token a file message names. */
  async uploadFile(accessToken: string, file: Blob, name: string): Promise<string> {
    const data = await this.upload("upload/file", accessToken, file, name);
    const token = firstString(data, "token");
    if (!token)
      throw new ZaloOaApiError("upload/file", -1, "no token in the answer", 200, JSON.stringify(data));
    return token;
  }

  private async upload(
    endpoint: "upload/image" | "upload/file",
    accessToken: string,
    file: Blob,
    name: string,
  ): Promise<JsonObject | undefined> {
    const form = new FormData();
    form.append("file", file, name);
    const { body, status, raw } = await this.send(
      endpoint,
      `${this.base}/v2.0/oa/${endpoint}`,
      { access_token: accessToken },
      form,
    );
    this.check(endpoint, body, status, raw);
    return asObject(body?.data);
  }

  /** One consultation message of any shape; returns Zalo's message id. */
  private async sendMessage(
    accessToken: string,
    userId: string,
    message: JsonObject,
  ): Promise<{ messageId?: string }> {
    const endpoint = "message/cs";
    const { body, status, raw } = await this.send(
      endpoint,
      `${this.base}/v3.0/oa/message/cs`,
      { "content-type": "application/json", access_token: accessToken },
      JSON.stringify({ recipient: { user_id: userId }, message }),
    );
    this.check(endpoint, body, status, raw);
    const messageId = firstString(asObject(body?.data), "message_id", "msg_id");
    return messageId ? { messageId } : {};
  }

  /** Zalo's answer is `{error: 0, …}` on success; anything else, HTTP error or not, throws. */
  private check(endpoint: string, body: JsonObject | undefined, status: number, raw: string): void {
    const code = asNumber(body?.error);
    if (status < 400 && code === 0) return;
    throw new ZaloOaApiError(
      endpoint,
      code ?? status,
      firstString(body, "message") ?? excerpt(raw),
      status,
      raw,
    );
  }

  /**
   * Trades a refresh token for a new pair. The refresh token given is dead once this succeeds:
   * the caller must store the new pair before anything else happens (see oa-tokens.ts).
   */
  async refreshAccessToken(input: {
    appId: string;
    secretKey: string;
    refreshToken: string;
  }): Promise<TokenPair> {
    const endpoint = "oauth/access_token";
    const { body, status, raw } = await this.send(
      endpoint,
      `${this.oauth}/v4/oa/access_token`,
      { "content-type": "application/x-www-form-urlencoded", secret_key: input.secretKey },
      new URLSearchParams({
        refresh_token: input.refreshToken,
        app_id: input.appId,
        grant_type: "refresh_token",
      }).toString(),
    );
    const accessToken = firstString(body, "access_token");
    const refreshToken = firstString(body, "refresh_token");
    const expiresInSeconds = asNumber(body?.expires_in);
    const code = asNumber(body?.error);
    if (status >= 400 || (code !== undefined && code !== 0) || !accessToken || !refreshToken) {
      throw new ZaloOaApiError(
        endpoint,
        code ?? status,
        firstString(body, "error_description", "error_name", "message") ?? excerpt(raw),
        status,
        raw,
      );
    }
    // Zalo documents about 25 hours; trust the answer, and fall back to one hour if it is missing.
    return { accessToken, refreshToken, expiresInSeconds: expiresInSeconds ?? 3600 };
  }
}

/** An attachment of an OA webhook event (`message.attachments[]`). */
export interface OaAttachment {
  /** "image", "sticker", "gif", "file", "audio", "video", "location", "link"… */
  type: string;
  url?: string;
  thumbnail?: string;
  name?: string;
  size?: number;
  stickerId?: string;
}

/**
 * One OA webhook event. Ids and timestamps arrive as strings and stay strings. Shapes:
 * user_send_text `{event_name, app_id, sender:{id}, recipient:{id}, message:{text, msg_id},
 * timestamp, user_id_by_app}`; user_send_image/_sticker/_file add `message.attachments[{type,
 * payload:{url, thumbnail, name, size, id}}]`; follow/unfollow carry `follower:{id}` and no
 * sender; user_seen_message carries `message.msg_ids` (PLATFORMS.md; the community sample at
 * developers.zalo.me/community/detail/e9f41c09204cc912905d).
 */
export interface OaEvent {
  eventName: string;
  appId?: string;
  /** Epoch milliseconds, as the string Zalo sent. */
  timestamp?: string;
  senderId?: string;
  recipientId?: string;
  followerId?: string;
  msgId?: string;
  text?: string;
  attachments: OaAttachment[];
  raw: string;
}

function parseAttachment(value: unknown): OaAttachment | undefined {
  const a = asObject(value);
  const type = firstString(a, "type");
  if (!a || !type) return undefined;
  const payload = asObject(a.payload);
  const attachment: OaAttachment = { type };
  const url = firstString(payload, "url", "href");
  if (url) attachment.url = url;
  const thumbnail = firstString(payload, "thumbnail");
  if (thumbnail) attachment.thumbnail = thumbnail;
  const name = firstString(payload, "name");
  if (name) attachment.name = name;
  const size = asNumber(payload?.size);
  if (size !== undefined) attachment.size = size;
  const stickerId = firstString(payload, "id", "sticker_id");
  if (stickerId) attachment.stickerId = stickerId;
  return attachment;
}

/** Reads an OA webhook body; undefined when it is not an event at all. */
export function parseOaEvent(value: unknown, raw: string): OaEvent | undefined {
  const e = asObject(value);
  const eventName = firstString(e, "event_name");
  if (!e || !eventName) return undefined;
  const message = asObject(e.message);
  const attachments = Array.isArray(message?.attachments)
    ? message.attachments.flatMap((item) => {
        const attachment = parseAttachment(item);
        return attachment ? [attachment] : [];
      })
    : [];
  const event: OaEvent = { eventName, attachments, raw };
  const appId = firstString(e, "app_id");
  if (appId) event.appId = appId;
  const timestamp = asString(e.timestamp);
  if (timestamp) event.timestamp = timestamp;
  const senderId = firstString(asObject(e.sender), "id");
  if (senderId) event.senderId = senderId;
  const recipientId = firstString(asObject(e.recipient), "id");
  if (recipientId) event.recipientId = recipientId;
  const followerId = firstString(asObject(e.follower), "id");
  if (followerId) event.followerId = followerId;
  const msgId = firstString(message, "msg_id", "message_id");
  if (msgId) event.msgId = msgId;
  const text = asString(message?.text);
  if (text !== undefined) event.text = text;
  return event;
}
