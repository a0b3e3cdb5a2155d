import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { Platforms } from "../../bench/load/platforms.js";
import { runScenario } from "../../bench/load/scenario.js";
import { databaseName } from "../support/db.js";

const workDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-bench-smoke-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/**
 * The load benchmark's machinery on a tiny load: two bot processes on one database, three
 * citizens and two officials on Telegram and Zalo through the real webhooks. Integrity only;
 * `npm run bench` measures speed, never a test.
 */
describe("load benchmark (smoke)", () => {
  it(
    "files every ticket and report once with two instances behind one webhook",
    { timeout: 60_000 },
    async () => {
      const result = await runScenario({
        title: "smoke",
        uri: inject("mongoUri"),
        dbName: databaseName(import.meta.filename),
        bot: "ours",
        instances: 2,
        channels: ["telegram", "zalo"],
        citizens: 3,
        officials: 2,
        thinkMs: 300,
        resendRate: 0.3,
        stepTimeoutMs: 20_000,
        workDir,
      });
      expect(result.checks.filter((c) => !c.pass)).toEqual([]);
      expect(result.checks.map((c) => c.name)).toHaveLength(5);
      expect(result.recorder.lost).toBe(0);
    },
  );
});

describe("the bench's fake Telegram with limits", () => {
  it("answers 429 with retry_after past 30 sends a second, and past a burst of 3 in one chat", async () => {
    // Time stands still: every send falls in the same second.
    const platforms = new Platforms({ limits: true, now: () => 1_000 });
    await platforms.start();
    try {
      const send = async (chatId: string) => {
        const response = await fetch(
          `${platforms.telegram.apiRoot}/bot${platforms.telegram.token}/sendMessage`,
          {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ chat_id: chatId, text: "thử" }),
          },
        );
        return (await response.json()) as {
          ok: boolean;
          error_code?: number;
          parameters?: { retry_after?: number };
        };
      };
      // Three at once in one chat go (a short burst), the fourth is told to wait.
      const burst = [];
      for (let i = 0; i < 4; i += 1) burst.push(await send("1"));
      expect(burst.map((r) => r.ok)).toEqual([true, true, true, false]);
      expect(burst[3]?.error_code).toBe(429);
      expect(burst[3]?.parameters?.retry_after).toBeGreaterThanOrEqual(1);
      // 27 more in other chats fill the second's 30; the next is refused whatever its chat.
      const others = await Promise.all(Array.from({ length: 27 }, (_, i) => send(String(100 + i))));
      expect(others.every((r) => r.ok)).toBe(true);
      const over = await send("999");
      expect(over.error_code).toBe(429);
      expect(platforms.refusedByLimits).toBe(2);
    } finally {
      await platforms.stop();
    }
  });
});
