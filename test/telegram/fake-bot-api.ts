import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { InlineKeyboardMarkup, Message, Update, User } from "grammy/types";

/** One request the bot made, as the fake understood it. */
export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
  /** Uploaded files (multipart parts), by field. */
  files: { field: string; name: string; size: number }[];
  /** The test clock's reading when the call arrived, if the fake was given one. */
  at?: number;
  /** What the fake answered: a result or a scripted error. */
  ok: boolean;
  errorCode?: number;
}

/** A message the fake "delivered" to a chat, as the bot sent it, plus its current keyboard. */
export interface DeliveredMessage {
  id: number;
  chatId: string;
  method: "sendMessage" | "sendPhoto" | "sendDocument";
  text: string;
  /** The keyboard as sent (an edit that removes it later does not change this). */
  sentMarkup?: InlineKeyboardMarkup;
  /** The message as Telegram would show it now (edits applied), for callback_query updates. */
  message: Message;
}

export interface ScriptedFailure {
  method: string;
  /** Only calls for this chat; any chat when absent. */
  chatId?: string;
  /** How many matching calls fail; 1 when absent. */
  times?: number;
  /** Matching calls let through before the failures start; 0 when absent. */
  after?: number;
  errorCode: number;
  description: string;
  retryAfter?: number;
}

export const FAKE_TOKEN = "123456789:TEST_token_for_the_fake_bot_api_server";

/**
 * A local stand-in for api.telegram.org: POST /bot<TOKEN>/<method> answered with
 * {ok:true,result} or {ok:false,error_code,description,parameters}, every call recorded, getUpdates
 * served from a queue with real offset semantics, failures scriptable per method and chat.
 */
export class FakeBotApi {
  readonly me: User & { username: string } = {
    id: 424242,
    is_bot: true,
    first_name: "Trợ lý Sở KH&CN",
    username: "dvbot_test_bot",
  };
  readonly calls: ApiCall[] = [];
  private readonly delivered: DeliveredMessage[] = [];
  private readonly failures: (ScriptedFailure & { left: number; skip: number })[] = [];
  private readonly updates: Update[] = [];
  private readonly waiters = new Set<() => void>();
  private nextMessageId = 100;
  /**
   * Fault injection (the fault matrix): `before` may answer a call with an error, or hold it
   * unanswered until the fake stops; `accepted` runs once a call has been carried out (a message
   * delivered), before its answer goes back. Both unset: every call is answered as it comes.
   */
  readonly hooks: {
    before?: (
      call: ApiCall,
    ) => { errorCode: number; description: string; retryAfter?: number } | "hang" | undefined;
    accepted?: (call: ApiCall) => Promise<void> | undefined;
  } = {};
  private readonly hung = new Set<() => void>();
  private readonly server = http.createServer((req, res) => void this.serve(req, res));
  private port = 0;

  constructor(
    private readonly options: {
      token?: string;
      now?: () => number;
      /** The longest a getUpdates call is held when there is nothing to return. */
      maxHoldMs?: number;
    } = {},
  ) {}

  get token(): string {
    return this.options.token ?? FAKE_TOKEN;
  }

  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const wake of this.waiters) wake();
    for (const release of this.hung) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Makes the next matching call(s) fail with this Bot API error. */
  fail(failure: ScriptedFailure): void {
    this.failures.push({ ...failure, left: failure.times ?? 1, skip: failure.after ?? 0 });
  }

  /** Queues an update for getUpdates. */
  push(update: Update): void {
    this.updates.push(update);
    for (const wake of this.waiters) wake();
  }

  /** Updates queued and not yet confirmed by an offset. */
  get unconfirmed(): number {
    return this.updates.length;
  }

  /** Calls of one method, in order. */
  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Messages delivered to a chat, in order. */
  messagesTo(chatId: string): DeliveredMessage[] {
    return this.delivered.filter((m) => m.chatId === chatId);
  }

  messageById(chatId: string, id: number): DeliveredMessage | undefined {
    return this.delivered.find((m) => m.chatId === chatId && m.id === id);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.route(req, res);
    } catch (failure) {
      // A fake that crashes would hang the test; answer like a broken server instead.
      if (!res.headersSent) reply(res, 500, error(500, `fake failed: ${String(failure)}`));
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url ?? "");
    const body = await read(req);
    if (!match || req.method !== "POST") return reply(res, 404, error(404, "Not Found"));
    if (match[1] !== this.token) return reply(res, 401, error(401, "Unauthorized"));
    const method = match[2] ?? "";
    const { params, files } = await parse(req.headers["content-type"] ?? "", body);
    const call: ApiCall = {
      method,
      params,
      files,
      ok: true,
      ...(this.options.now ? { at: this.options.now() } : {}),
    };
    this.calls.push(call);
    const injected = this.hooks.before?.(call);
    if (injected === "hang") {
      call.ok = false;
      await new Promise<void>((resolve) => this.hung.add(resolve));
      return;
    }
    if (injected) {
      call.ok = false;
      call.errorCode = injected.errorCode;
      const parameters = injected.retryAfter !== undefined ? { retry_after: injected.retryAfter } : undefined;
      return reply(res, injected.errorCode, error(injected.errorCode, injected.description, parameters));
    }
    const failure = this.failures.find(
      (f) => f.left > 0 && f.method === method && (!f.chatId || f.chatId === String(params.chat_id)),
    );
    if (failure && failure.skip > 0) failure.skip -= 1;
    else if (failure) {
      failure.left -= 1;
      call.ok = false;
      call.errorCode = failure.errorCode;
      const parameters = failure.retryAfter !== undefined ? { retry_after: failure.retryAfter } : undefined;
      return reply(res, failure.errorCode, error(failure.errorCode, failure.description, parameters));
    }
    if (method === "getUpdates") {
      const result = await this.getUpdates(params, req);
      return reply(res, 200, { ok: true, result });
    }
    const result = this.answer(method, params, files);
    if (result instanceof Error) {
      call.ok = false;
      call.errorCode = 400;
      return reply(res, 400, error(400, result.message));
    }
    const accepted = this.hooks.accepted?.(call);
    if (accepted) await accepted;
    return reply(res, 200, { ok: true, result });
  }

  private async getUpdates(params: Record<string, unknown>, req: IncomingMessage): Promise<Update[]> {
    const offset = typeof params.offset === "number" ? params.offset : undefined;
    const limit = typeof params.limit === "number" ? params.limit : 100;
    // Telegram forgets every update below the offset: that is how a batch is confirmed.
    if (offset !== undefined) {
      while (this.updates.length > 0 && (this.updates[0]?.update_id ?? 0) < offset) this.updates.shift();
    }
    const timeout = typeof params.timeout === "number" ? params.timeout * 1000 : 0;
    if (this.updates.length === 0 && timeout > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(timeout, this.options.maxHoldMs ?? 200));
        this.waiters.add(done);
        req.once("close", done);
      });
    }
    return this.updates.slice(0, limit);
  }

  private answer(method: string, params: Record<string, unknown>, files: ApiCall["files"]): unknown | Error {
    const chatId = String(params.chat_id ?? "");
    switch (method) {
      case "getMe":
        return this.me;
      case "sendMessage":
        return this.deliver("sendMessage", chatId, {
          text: String(params.text ?? ""),
          ...(params.reply_markup ? { reply_markup: params.reply_markup as InlineKeyboardMarkup } : {}),
        });
      case "sendPhoto":
        return this.deliver("sendPhoto", chatId, {
          photo: [
            { file_id: `sent-photo-${this.nextMessageId}`, file_unique_id: "p", width: 800, height: 600 },
          ],
        });
      case "sendDocument":
        return this.deliver("sendDocument", chatId, {
          document: {
            file_id: `sent-doc-${this.nextMessageId}`,
            file_unique_id: "d",
            file_name: files[0]?.name ?? String(params.document ?? ""),
          },
        });
      case "editMessageReplyMarkup": {
        const target = this.messageById(chatId, Number(params.message_id));
        if (!target) return new Error("Bad Request: message to edit not found");
        if (!target.message.reply_markup && !params.reply_markup) {
          return new Error("Bad Request: message is not modified");
        }
        const { reply_markup: _removed, ...rest } = target.message;
        target.message = (
          params.reply_markup ? { ...rest, reply_markup: params.reply_markup } : rest
        ) as Message;
        return target.message;
      }
      case "answerCallbackQuery":
      case "sendChatAction":
      case "setMyCommands":
      case "deleteMyCommands":
      case "setWebhook":
      case "deleteWebhook":
        return true;
      default:
        return new Error(`Bad Request: the fake does not know ${method}`);
    }
  }

  private deliver(method: DeliveredMessage["method"], chatId: string, content: Partial<Message>): Message {
    const id = this.nextMessageId++;
    const numeric = Number(chatId);
    const message = {
      message_id: id,
      date: Math.floor((this.options.now?.() ?? Date.now()) / 1000),
      chat:
        numeric < 0
          ? { id: numeric, type: "supergroup", title: "Nhóm thử" }
          : { id: numeric, type: "private", first_name: "Người dùng" },
      from: this.me,
      ...content,
    } as Message;
    this.delivered.push({
      id,
      chatId,
      method,
      text: message.text ?? "",
      ...(message.reply_markup ? { sentMarkup: message.reply_markup } : {}),
      message,
    });
    return message;
  }
}

function error(code: number, description: string, parameters?: { retry_after: number }) {
  return { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

function read(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * grammY posts JSON, or multipart/form-data when it uploads a file (other fields JSON-encoded).
 * Its multipart headers are terse (`content-disposition:form-data;name="photo"`, an unquoted
 * filename) — valid for Telegram, too loose for undici's strict FormData parser — so the parts
 * are read here by hand.
 */
async function parse(
  contentType: string,
  body: Buffer,
): Promise<{ params: Record<string, unknown>; files: ApiCall["files"] }> {
  if (body.length === 0) return { params: {}, files: [] };
  const boundary = /boundary=(.+)$/.exec(contentType)?.[1];
  if (!contentType.startsWith("multipart/form-data") || !boundary) {
    return { params: JSON.parse(body.toString("utf8")) as Record<string, unknown>, files: [] };
  }
  const params: Record<string, unknown> = {};
  const files: ApiCall["files"] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // drop the CRLF after the delimiter and before the next
    const split = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, split).toString("utf8");
    const content = part.subarray(split + 4);
    const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? "";
    const filename = /filename="?([^";\r\n]*)"?/i.exec(headers)?.[1];
    if (filename !== undefined) {
      files.push({ field: name, name: filename, size: content.length });
    } else {
      const value = content.toString("utf8");
      try {
        params[name] = JSON.parse(value);
      } catch {
        params[name] = value;
      }
    }
    at = next;
  }
  return { params, files };
}
