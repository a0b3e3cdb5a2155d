import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "./log.js";

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

/**
 * A route that knows its caller from the headers. The platforms put their webhook secret in a
 * header, so a forged call is refused before a byte of its body is read: a flood of large
 * unauthenticated posts then costs the process no memory.
 */
export interface Route {
  handle: RouteHandler;
  /** Runs on the request line and headers alone; false answers 401 and the body is never kept. */
  authorize?: (req: IncomingMessage) => boolean;
  /** The most bodies this route reads at once; more are answered 503 with Retry-After, unread. */
  maxReaders?: number;
}

/** Bodies larger than this are refused before they are read to the end: no update is that big. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Bodies read at once on one route, by default. The platforms send a bot's updates a few at a
 * time (Telegram's max_connections defaults to 40, and each waits for our answer), so 32 readers
 * is room for real traffic while 32 × MAX_BODY_BYTES bounds what a flood can make us hold.
 */
export const MAX_READERS = 32;
/** Seconds a caller turned away by the reader cap is asked to wait; the platforms retry. */
const BUSY_RETRY_SECONDS = 5;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  // A declared length over the cap is refused without reading a byte.
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop keeping it but let it drain, so the caller reads our 413 instead of a reset.
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
    // A caller gone mid-body frees its reader slot (a settled promise ignores this after "end").
    req.on("close", () => reject(new Error("request closed before its body was read")));
  });
}

/**
 * Answers without reading the body: what the caller still sends is discarded as it arrives (Node
 * dumps an unread request), never kept. The connection is not cut: a reset while the caller is
 * still writing could lose it our answer.
 */
function refuse(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendJson(res, status, body);
}

/**
 * The app's one HTTP server: health probes now, the platforms' webhooks as channels mount them.
 * Routes are a table keyed by method and path, so a channel adds its route without touching this file.
 */
export class HttpServer {
  private readonly routes = new Map<string, Route>();
  /** Bodies being read now, per route key. */
  private readonly reading = new Map<string, number>();
  private readonly server = http.createServer((req, res) => void this.dispatch(req, res));

  constructor(
    private readonly log: Logger,
    ready: () => Promise<{ ok: boolean; detail: Record<string, unknown> }>,
  ) {
    this.route("GET", "/healthz", (_req, res) => sendJson(res, 200, { status: "ok" }));
    this.route("GET", "/readyz", async (_req, res) => {
      const { ok, detail } = await ready();
      sendJson(res, ok ? 200 : 503, { status: ok ? "ready" : "unavailable", ...detail });
    });
  }

  /**
   * Adds a route: a bare handler, or a `Route` that authorizes from the headers and caps its readers.
   * @example http.route("POST", "/hook", { authorize: (req) => req.headers["x-key"] === key, handle })
   */
  route(method: string, path: string, handler: RouteHandler | Route): void {
    this.routes.set(`${method} ${path}`, typeof handler === "function" ? { handle: handler } : handler);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const key = `${req.method} ${path}`;
    const route = this.routes.get(key);
    if (!route) {
      refuse(res, 404, { error: "not found" });
      return;
    }
    // Authenticate, then read: a caller without the secret is answered from its headers.
    if (route.authorize && !route.authorize(req)) {
      refuse(res, 401, { error: "unauthorized" });
      return;
    }
    const readers = this.reading.get(key) ?? 0;
    if (readers >= (route.maxReaders ?? MAX_READERS)) {
      refuse(res, 503, { error: "busy" }, { "retry-after": String(BUSY_RETRY_SECONDS) });
      return;
    }
    this.reading.set(key, readers + 1);
    let body: Buffer | undefined;
    try {
      body = await readBody(req);
    } catch (error) {
      this.log.warn({ err: error, path }, "http: request body could not be read");
      if (!res.headersSent) refuse(res, 400, { error: "bad request" });
      return;
    } finally {
      this.reading.set(key, (this.reading.get(key) ?? 1) - 1);
    }
    if (!body) {
      res.setHeader("connection", "close");
      refuse(res, 413, { error: "payload too large" });
      return;
    }
    try {
      await route.handle(req, res, body);
    } catch (error) {
      this.log.error({ err: error, path }, "http: handler failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
    }
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export { sendJson };
