import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { createServer, type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WEBHOOK_PATH, webhookRoute } from "../../bots/telegram/webhook.js";
import { BOT_WEBHOOK_PATH, mountBotWebhook, OA_WEBHOOK_PATH } from "../../bots/zalo/webhooks.js";
import { HttpServer, MAX_READERS } from "../../src/http.js";
import { silentLogger } from "../../src/log.js";
import { databaseName } from "../support/db.js";
import { FakeBotApi } from "../telegram/fake-bot-api.js";
import { FAKE_BOT_TOKEN, FakeZalo } from "../zalo/fake-zalo.js";

/**
 * Authenticate, then read. The webhook secrets travel in headers, so a forged call is refused
 * before its body is read; bodies are read under a size cap and a cap on readers per route. A
 * flood of unauthenticated megabyte posts against a real bot process (the way it runs in
 * production) is all refused and leaves its memory where it was: before, each body was read whole
 * before the secret was looked at, and 300 of them took the process from 169 MB to 478 MB.
 */

const root = path.resolve(import.meta.dirname, "../..");
const TELEGRAM_SECRET = "flood-telegram-webhook-secret";
const ZALO_SECRET = "flood-zalo-webhook-secret";
const MB = 1024 * 1024;

/** RSS of a process from /proc (Linux), as bench/load/bot-process.ts samples it. */
function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb ?? 0) * 1024;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * POSTs `body` and settles with the status, or with the error when the server closed first. The
 * server may answer before the body is sent; the answer is what counts.
 */
function post(port: number, pathName: string, body: Buffer, headers: Record<string, string> = {}) {
  return new Promise<number | string>((resolve) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: pathName,
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "content-length": body.length, ...headers },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end(body);
  });
}

describe("a flood of unauthenticated posts against a bot process", () => {
  const telegram = new FakeBotApi();
  const zalo = new FakeZalo();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-flood-"));
  let child: ChildProcess;
  let port: number;

  beforeAll(async () => {
    await telegram.start();
    await zalo.start();
    port = await freePort();
    child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        MONGODB_URI: inject("mongoUri"),
        MONGODB_DB: databaseName("flood"),
        HOST: "127.0.0.1",
        PORT: String(port),
        PUBLIC_URL: "https://flood.invalid",
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        ZALO_BOT_TOKEN: FAKE_BOT_TOKEN,
        ZALO_WEBHOOK_SECRET: ZALO_SECRET,
        ZALO_API_BASE: zalo.url,
        CONSOLE_CHANNEL: "off",
        JOBS: "off",
        LOG_LEVEL: "error",
        DATA_DIR: dataDir,
        DATA_ENCRYPTION_KEYS: `test:${randomBytes(32).toString("base64")}`,
        FILE_LINK_SECRET: "flood-file-link-secret-0123456789abcdef",
      },
      stdio: "ignore",
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready && telegram.calls.some((c) => c.method === "setWebhook")) break;
      if (child.exitCode !== null) throw new Error(`the bot exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error("the bot did not start");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 90_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await telegram.stop();
    await zalo.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers 300 concurrent 1 MB posts without the secret with 401, and its memory stays flat", async () => {
    const pid = child.pid ?? 0;
    const body = Buffer.alloc(MB - 1024, "a");
    const before = rssOf(pid);
    let during = before;
    const sampler = setInterval(() => (during = Math.max(during, rssOf(pid))), 20);
    const routes: { path: string; headers: Record<string, string> }[] = [
      { path: WEBHOOK_PATH, headers: {} },
      { path: WEBHOOK_PATH, headers: { "x-telegram-bot-api-secret-token": "guessed-secret" } },
      { path: BOT_WEBHOOK_PATH, headers: {} },
      { path: BOT_WEBHOOK_PATH, headers: { "x-bot-api-secret-token": "guessed-secret" } },
    ];
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const route = routes[i % routes.length] ?? { path: WEBHOOK_PATH, headers: {} };
        return post(port, route.path, body, route.headers);
      }),
    );
    clearInterval(sampler);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = rssOf(pid);
    const mb = (n: number) => (n / MB).toFixed(1);
    // Printed for the README and the operator: the figures, not a bound on speed.
    process.stdout.write(
      `flood of 300 × 1 MB unauthenticated posts: RSS before ${mb(before)} MB, peak during ${mb(during)} MB, after ${mb(after)} MB\n`,
    );
    const statuses = new Map<number | string, number>();
    for (const status of results) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    // Refused, every one: a 401, or, when the server answered and closed before a caller had sent
    // its whole megabyte (the body is never read), the reset that caller then meets on writing.
    const refusals = new Set<number | string>([401, "EPIPE", "ECONNRESET"]);
    expect([...statuses.keys()].filter((status) => !refusals.has(status))).toEqual([]);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
    expect(after - before).toBeLessThan(60 * MB);
    expect(during - before).toBeLessThan(60 * MB);
    // Still serving.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 120_000);
});

describe("authenticate, then read", () => {
  it("a webhook call without the secret is answered 401 before its body is sent at all", async () => {
    const server = new HttpServer(silentLogger(), async () => ({ ok: true, detail: {} }));
    let handled = 0;
    server.route(
      "POST",
      WEBHOOK_PATH,
      webhookRoute({
        secret: TELEGRAM_SECRET,
        open: () => true,
        log: silentLogger(),
        handle: async () => void (handled += 1),
      }),
    );
    mountBotWebhook(server, {
      secret: ZALO_SECRET,
      onUpdate: async () => void (handled += 1),
      log: silentLogger(),
    });
    const port = await server.listen(0, "127.0.0.1");
    try {
      for (const pathName of [WEBHOOK_PATH, BOT_WEBHOOK_PATH]) {
        // Headers announcing a megabyte, and then nothing: only an answer from the headers comes back.
        const status = await new Promise<number | string>((resolve) => {
          const req = http.request(
            {
              host: "127.0.0.1",
              port,
              path: pathName,
              method: "POST",
              agent: false,
              headers: { "content-type": "application/json", "content-length": MB },
            },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
              req.destroy();
            },
          );
          req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
          req.flushHeaders();
          setTimeout(() => resolve("no answer while the body was withheld"), 10_000).unref();
        });
        expect(status, pathName).toBe(401);
      }
      expect(handled).toBe(0);
    } finally {
      await server.close();
    }
  }, 30_000);
});

describe("the reader cap", () => {
  it(`reads at most ${MAX_READERS} bodies at once per route; more get 503 with Retry-After, unread`, async () => {
    const server = new HttpServer(silentLogger(), async () => ({ ok: true, detail: {} }));
    let handled = 0;
    server.route("POST", OA_WEBHOOK_PATH, (_req, res) => {
      handled += 1;
      res.end("ok");
    });
    const port = await server.listen(0, "127.0.0.1");
    // Callers that send their headers and then dribble: each holds a reader.
    const slow = Array.from({ length: MAX_READERS }, () => {
      const req = http.request({
        host: "127.0.0.1",
        port,
        path: OA_WEBHOOK_PATH,
        method: "POST",
        agent: false,
        headers: { "content-length": 10 },
      });
      req.on("error", () => undefined);
      const answered = new Promise<number>((resolve) =>
        req.on("response", (r) => resolve(r.statusCode ?? 0)),
      );
      req.write("{");
      return { req, answered };
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const busy = await new Promise<http.IncomingMessage>((resolve) => {
        const req = http.request(
          { host: "127.0.0.1", port, path: OA_WEBHOOK_PATH, method: "POST", agent: false },
          resolve,
        );
        req.end("{}");
      });
      busy.resume();
      expect(busy.statusCode).toBe(503);
      expect(busy.headers["retry-after"]).toBe("5");
      expect(handled).toBe(0);
      // The slow ones finish; their route is open again.
      for (const { req } of slow) req.end("}00000000");
      expect(await Promise.all(slow.map((s) => s.answered))).toEqual(slow.map(() => 200));
      expect(await post(port, OA_WEBHOOK_PATH, Buffer.from("{}"))).toBe(200);
      expect(handled).toBe(MAX_READERS + 1);
    } finally {
      await server.close();
    }
  });
});
