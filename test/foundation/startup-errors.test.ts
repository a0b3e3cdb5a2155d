import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { runScript, serverSecrets } from "../cli/spawn.js";
import { databaseName } from "../support/db.js";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-startup-errors-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function listening(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address ? address.port : 0 });
    });
  });
}

describe("npm start that cannot start says why in one line, never with a stack", () => {
  it("a port another program holds", async () => {
    const { server, port } = await listening();
    try {
      const run = await runScript("src/main.ts", [], {
        PORT: String(port),
        HOST: "127.0.0.1",
        DATA_DIR: dataDir,
        MONGODB_URI: inject("mongoUri"),
        MONGODB_DB: databaseName("startup-errors"),
        ...serverSecrets(),
      });
      expect(run.stderr.trimEnd().split("\n")).toEqual([
        `Cổng ${port} trên 127.0.0.1 đang có chương trình khác dùng: dừng chương trình đó, hoặc đặt PORT khác (PORT=0 để tự chọn cổng trống).`,
      ]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
    } finally {
      server.close();
    }
  });
});
