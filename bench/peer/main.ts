import http from "node:http";
import { webhookCallback } from "grammy";
import mongoose from "mongoose";
import { createPeerBot } from "./bot.js";

/**
 * The peer as a process, run by the load benchmark with the same variables as our bot:
 * MONGODB_URI, MONGODB_DB, PORT, PUBLIC_URL, TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET,
 * TELEGRAM_API_ROOT. webhookCallback on node:http, the setup grammY's hosting guide shows.
 */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`peer: ${name} is not set`);
  return value;
}

const WEBHOOK_PATH = "/telegram/webhook";
const connection = await mongoose
  .createConnection(required("MONGODB_URI"), { dbName: required("MONGODB_DB") })
  .asPromise();
const bot = await createPeerBot({
  token: required("TELEGRAM_BOT_TOKEN"),
  apiRoot: process.env.TELEGRAM_API_ROOT,
  connection,
  timeZone: "Asia/Ho_Chi_Minh",
});
const secret = required("TELEGRAM_WEBHOOK_SECRET");
const handle = webhookCallback(bot, "http", { secretToken: secret });
const server = http.createServer((req, res) => {
  if (req.method === "POST" && req.url === WEBHOOK_PATH) {
    handle(req, res).catch((error: unknown) => {
      process.stderr.write(`peer: webhook failed: ${String(error)}\n`);
      if (!res.headersSent) res.writeHead(500).end();
    });
    return;
  }
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(Number(required("PORT")), "127.0.0.1", resolve));
await bot.api.setWebhook(`${required("PUBLIC_URL")}${WEBHOOK_PATH}`, { secret_token: secret });

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    void connection.close().then(() => process.exit(0));
  });
}
