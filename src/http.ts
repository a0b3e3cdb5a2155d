import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "./log.js";

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

/** Bodies larger than this are refused before they are read to the end: no update is that big. */
const MAX_BODY_BYTES = 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
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
  });
}

/**
 * The app's one HTTP server: health probes now, the platforms' webhooks as channels mount them.
 * Routes are a table keyed by method and path, so a channel adds its route without touching this file.
 */
export class HttpServer {
  private readonly routes = new Map<string, RouteHandler>();
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

  route(method: string, path: string, handler: RouteHandler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const handler = this.routes.get(`${req.method} ${path}`);
    if (!handler) {
      sendJson(res, 404, { error: "not found" });
      return;
    }
    try {
      const body = await readBody(req);
      if (!body) {
        res.setHeader("connection", "close");
        sendJson(res, 413, { error: "payload too large" });
        return;
      }
      await handler(req, res, body);
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
