import { randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local Zalo for the tests, on 127.0.0.1 and a random port, speaking the shapes the real
 * services speak (bots/zalo/bot-api.ts and oa-api.ts say where each comes from):
 * - the Bot Platform at /bot<TOKEN>/<method>: getMe, getUpdates (one update per call, held open
 *   until one comes, then `{ok:false,error_code:408,"Request timeout"}`), setWebhook,
 *   getWebhookInfo (404 when none), deleteWebhook, sendMessage (≤ 2000 characters), sendPhoto,
 *   sendChatAction; getUpdates refuses to work while a webhook is set;
 * - the OA API at /v3.0/oa/message/cs (errors inside HTTP 200 as `{error:<negative>, message}`):
 *   text, a picture (media template by URL or attachment id) or a file (by upload token); and
 *   its uploads /v2.0/oa/upload/image (JPG/PNG ≤ 1 MB) and /v2.0/oa/upload/file (PDF/DOC/DOCX ≤ 5 MB);
 * - the OAuth endpoint at /v4/oa/access_token, where a refresh token works once.
 * Every call is recorded; any answer can be scripted.
 */

export interface ScriptedReply {
  status?: number;
  body: unknown;
}

export interface BotSent {
  method: "sendMessage" | "sendPhoto";
  chatId: string;
  text?: string;
  photo?: string;
  messageId: string;
}

export interface OaSent {
  userId: string;
  /** "" for a picture without a caption, or a file. */
  text: string;
  accessToken: string;
  messageId: string;
  /** A picture (its URL, or the name of the upload it names) or a file (the upload's name). */
  attachment?: { type: "image"; url?: string; uploaded?: string } | { type: "file"; uploaded: string };
}

export interface OaUpload {
  kind: "image" | "file";
  name: string;
  type: string;
  size: number;
  /** The attachment id (image) or token (file) handed back. */
  id: string;
}

export interface RefreshCall {
  refreshToken: string;
  appId: string;
  secretKey: string;
  accepted: boolean;
}

interface QueuedUpdate {
  update: unknown;
  remaining: number;
  /** The poll numbers at which it was handed out. */
  handedAt: number[];
  done: () => void;
}

export const FAKE_BOT_TOKEN = "1459232241454765289:fake-bot-token-for-tests";
export const FAKE_APP_ID = "2553928453557884079";
export const FAKE_APP_SECRET = "fake-app-secret-key";

const hexId = () => randomBytes(10).toString("hex");

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const UPLOADS = {
  image: { maxBytes: 1024 * 1024, types: ["image/jpeg", "image/png"] },
  file: {
    maxBytes: 5 * 1024 * 1024,
    types: [
      "application/pdf",
      "application/msword",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ],
  },
} as const;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(payload);
}

export class FakeZalo {
  private readonly server = http.createServer((req, res) => void this.dispatch(req, res));
  url = "";

  readonly bot = {
    token: FAKE_BOT_TOKEN,
    calls: [] as { method: string; body: Record<string, unknown> }[],
    sent: [] as BotSent[],
    chatActions: [] as { chatId: string; action: string }[],
    webhook: undefined as { url: string; secret: string } | undefined,
    polls: 0,
    /** Longest a getUpdates call is held open, whatever timeout it asks for. */
    maxHoldMs: 1000,
    scripted: new Map<string, ScriptedReply[]>(),
    /** Chats whose sendMessage/sendPhoto calls are read and never answered (a Zalo gone silent). */
    hangChats: new Set<string>(),
  };

  readonly oa = {
    appId: FAKE_APP_ID,
    appSecret: FAKE_APP_SECRET,
    sent: [] as OaSent[],
    validAccessTokens: new Set<string>(),
    validRefreshTokens: new Set<string>(),
    refreshCalls: [] as RefreshCall[],
    /** Holds each refresh answer this long, so that racing refreshers overlap. */
    refreshDelayMs: 0,
    scriptedSend: [] as ScriptedReply[],
    scriptedRefresh: [] as ScriptedReply[],
    uploads: [] as OaUpload[],
    /** Users whose messages are read and never answered. */
    hangUsers: new Set<string>(),
  };

  private readonly queue: QueuedUpdate[] = [];
  private readonly held = new Set<() => void>();
  /** Requests left unanswered on purpose; released (the connection closed) when the fake closes. */
  private readonly hung = new Set<() => void>();

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const release of this.held) release();
    for (const release of this.hung) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Makes the next call of `method` answer this instead. */
  failNext(method: string, scripted: ScriptedReply): void {
    const list = this.bot.scripted.get(method) ?? [];
    list.push(scripted);
    this.bot.scripted.set(method, list);
  }

  /**
   * Puts an update in the getUpdates queue, handed out `times` times (Zalo may repeat one).
   * Resolves once the last hand-out has been followed by another getUpdates call: the bot polls
   * again only after it handled what it got, so by then the update has been handled.
   */
  deliver(update: unknown, times = 1): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ update, remaining: times, handedAt: [], done: resolve });
      for (const release of this.held) release();
    });
  }

  /** A fresh refresh token Zalo would have issued (usable once). */
  issueRefreshToken(): string {
    const token = `rt-${hexId()}`;
    this.oa.validRefreshTokens.add(token);
    return token;
  }

  issueAccessToken(): string {
    const token = `at-${hexId()}`;
    this.oa.validAccessTokens.add(token);
    return token;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const bytes = await readBody(req);
    const raw = bytes.toString("utf8");
    if (path === "/v2.0/oa/upload/image") return this.oaUpload("image", req, res, bytes);
    if (path === "/v2.0/oa/upload/file") return this.oaUpload("file", req, res, bytes);
    if (path === "/v3.0/oa/message/cs") return this.oaSend(req, res, raw);
    if (path === "/v4/oa/access_token") return this.oauth(req, res, raw);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(path);
    if (!match) return reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    if (match[1] !== this.bot.token) {
      return reply(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
    }
    const method = match[2] ?? "";
    let body: Record<string, unknown>;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return reply(res, 400, { ok: false, error_code: 400, description: "Bad Request: invalid JSON" });
    }
    this.bot.calls.push({ method, body });
    if (method === "getUpdates") return this.getUpdates(res, body);
    if (method.startsWith("send") && this.bot.hangChats.has(String(body.chat_id))) return this.hang();
    const scripted = this.bot.scripted.get(method)?.shift();
    if (scripted) return reply(res, scripted.status ?? 200, scripted.body);
    return this.botMethod(res, method, body);
  }

  private botMethod(res: ServerResponse, method: string, body: Record<string, unknown>): void {
    const ok = (result: unknown) => reply(res, 200, { ok: true, result });
    const bad = (description: string) => reply(res, 400, { ok: false, error_code: 400, description });
    const chatId = typeof body.chat_id === "string" ? body.chat_id : "";
    switch (method) {
      case "getMe":
        return ok({ id: "1459232241454765289", account_name: "bot.FakeSoKHCN", account_type: "BASIC" });
      case "setWebhook": {
        const secret = String(body.secret_token ?? "");
        if (typeof body.url !== "string" || !body.url.startsWith("https://")) return bad("url must be https");
        if (secret.length < 8 || secret.length > 256) return bad("secret_token must be 8-256 characters");
        this.bot.webhook = { url: body.url, secret };
        return ok({ url: body.url, updated_at: Date.now() });
      }
      case "getWebhookInfo":
        return this.bot.webhook
          ? ok({ url: this.bot.webhook.url, updated_at: Date.now() })
          : reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
      case "deleteWebhook":
        this.bot.webhook = undefined;
        return ok({ url: "", updated_at: Date.now() });
      case "sendMessage": {
        const text = typeof body.text === "string" ? body.text : "";
        if (!chatId) return bad("chat_id is required");
        if (text.length < 1 || text.length > 2000) return bad("text must be 1-2000 characters");
        const messageId = hexId();
        this.bot.sent.push({ method, chatId, text, messageId });
        return ok({ message_id: messageId, date: Date.now() });
      }
      case "sendPhoto": {
        if (!chatId || typeof body.photo !== "string") return bad("chat_id and photo are required");
        const messageId = hexId();
        this.bot.sent.push({
          method,
          chatId,
          photo: body.photo,
          ...(typeof body.caption === "string" ? { text: body.caption } : {}),
          messageId,
        });
        return ok({ message_id: messageId, date: Date.now() });
      }
      case "sendChatAction":
        this.bot.chatActions.push({ chatId, action: String(body.action) });
        return reply(res, 200, { ok: true });
      default:
        return reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    }
  }

  private async getUpdates(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    this.bot.polls += 1;
    const poll = this.bot.polls;
    // The previous hand-out is handled once the bot asks again.
    for (const item of [...this.queue]) {
      if (item.remaining === 0 && item.handedAt.every((at) => at < poll)) {
        this.queue.splice(this.queue.indexOf(item), 1);
        item.done();
      }
    }
    const scripted = this.bot.scripted.get("getUpdates")?.shift();
    if (scripted) return reply(res, scripted.status ?? 200, scripted.body);
    if (this.bot.webhook) {
      return reply(res, 400, {
        ok: false,
        error_code: 400,
        description: "Bad Request: can't use getUpdates while webhook is active",
      });
    }
    const seconds = Number(body.timeout ?? 30);
    const holdMs = Math.min(this.bot.maxHoldMs, (Number.isFinite(seconds) ? seconds : 30) * 1000);
    const next = this.queue.find((item) => item.remaining > 0) ?? (await this.hold(holdMs));
    if (!next) return reply(res, 200, { ok: false, error_code: 408, description: "Request timeout" });
    next.remaining -= 1;
    next.handedAt.push(poll);
    reply(res, 200, { ok: true, result: next.update });
  }

  /** Never answers: the caller's own deadline is all that ends the call (or the fake closing). */
  private hang(): Promise<void> {
    return new Promise((resolve) => {
      const release = () => {
        this.hung.delete(release);
        resolve();
      };
      this.hung.add(release);
    });
  }

  /** Waits for an update to be queued, or the hold to run out. */
  private hold(ms: number): Promise<QueuedUpdate | undefined> {
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        this.held.delete(release);
        resolve(this.queue.find((item) => item.remaining > 0));
      };
      const timer = setTimeout(release, ms);
      this.held.add(release);
    });
  }

  private oaSend(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const scripted = this.oa.scriptedSend.shift();
    if (scripted) return reply(res, scripted.status ?? 200, scripted.body);
    const accessToken = String(req.headers.access_token ?? "");
    if (!this.oa.validAccessTokens.has(accessToken)) {
      return reply(res, 200, { error: -216, message: "Access token is invalid" });
    }
    const body = JSON.parse(raw) as {
      recipient?: { user_id?: string };
      message?: { text?: string; attachment?: unknown };
    };
    const userId = body.recipient?.user_id ?? "";
    if (this.oa.hangUsers.has(userId)) {
      void this.hang();
      return;
    }
    const text = body.message?.text ?? "";
    if (!userId) return reply(res, 200, { error: -201, message: "user_id is invalid!" });
    const attachment = this.attachmentOf(body.message?.attachment);
    if (attachment === null) return reply(res, 200, { error: -201, message: "attachment is invalid!" });
    if ((attachment === undefined && text.length < 1) || text.length > 2000)
      return reply(res, 200, { error: -201, message: "text is invalid!" });
    const messageId = hexId();
    this.oa.sent.push({ userId, text, accessToken, messageId, ...(attachment ? { attachment } : {}) });
    reply(res, 200, { error: 0, message: "Success", data: { message_id: messageId, user_id: userId } });
  }

  /** A message's attachment as the OA reads it: undefined for none, null for one it refuses. */
  private attachmentOf(value: unknown): OaSent["attachment"] | null | undefined {
    if (value === undefined) return undefined;
    const a = value as {
      type?: string;
      payload?: {
        template_type?: string;
        token?: string;
        elements?: { media_type?: string; url?: string; attachment_id?: string }[];
      };
    };
    if (a.type === "file") {
      const upload = this.oa.uploads.find((u) => u.kind === "file" && u.id === a.payload?.token);
      return upload ? { type: "file", uploaded: upload.name } : null;
    }
    const element = a.payload?.elements?.[0];
    if (a.type !== "template" || a.payload?.template_type !== "media" || element?.media_type !== "image") {
      return null;
    }
    if (element.url) return { type: "image", url: element.url };
    const upload = this.oa.uploads.find((u) => u.kind === "image" && u.id === element.attachment_id);
    return upload ? { type: "image", uploaded: upload.name } : null;
  }

  private async oaUpload(
    kind: "image" | "file",
    req: IncomingMessage,
    res: ServerResponse,
    bytes: Buffer,
  ): Promise<void> {
    if (!this.oa.validAccessTokens.has(String(req.headers.access_token ?? ""))) {
      return reply(res, 200, { error: -216, message: "Access token is invalid" });
    }
    const form = await new Response(bytes, {
      headers: { "content-type": String(req.headers["content-type"] ?? "") },
    })
      .formData()
      .catch(() => undefined);
    const file = form?.get("file");
    if (!file || typeof file === "string")
      return reply(res, 200, { error: -201, message: "file is missing" });
    const limits = UPLOADS[kind];
    if (!(limits.types as readonly string[]).includes(file.type)) {
      return reply(res, 200, { error: -201, message: "file type is not supported" });
    }
    if (file.size > limits.maxBytes) return reply(res, 200, { error: -210, message: "file is too large" });
    const id = hexId();
    this.oa.uploads.push({ kind, name: file.name, type: file.type, size: file.size, id });
    reply(res, 200, {
      error: 0,
      message: "Success",
      data: kind === "image" ? { attachment_id: id } : { token: id },
    });
  }

  private async oauth(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const form = new URLSearchParams(raw);
    const refreshToken = form.get("refresh_token") ?? "";
    const appId = form.get("app_id") ?? "";
    const secretKey = String(req.headers.secret_key ?? "");
    if (this.oa.refreshDelayMs > 0) await new Promise((r) => setTimeout(r, this.oa.refreshDelayMs));
    const scripted = this.oa.scriptedRefresh.shift();
    const valid =
      !scripted &&
      form.get("grant_type") === "refresh_token" &&
      appId === this.oa.appId &&
      secretKey === this.oa.appSecret &&
      this.oa.validRefreshTokens.has(refreshToken);
    this.oa.refreshCalls.push({ refreshToken, appId, secretKey, accepted: valid });
    if (scripted) return reply(res, scripted.status ?? 200, scripted.body);
    if (!valid) {
      return reply(res, 200, {
        error: -14020,
        error_name: "Invalid refresh token",
        error_description: "Refresh token is invalid or has been used",
      });
    }
    // Single use: the token is dead the moment it has been traded.
    this.oa.validRefreshTokens.delete(refreshToken);
    reply(res, 200, {
      access_token: this.issueAccessToken(),
      refresh_token: this.issueRefreshToken(),
      expires_in: "90000",
    });
  }
}

export async function startFakeZalo(): Promise<FakeZalo> {
  return new FakeZalo().start();
}
