import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Schema } from "mongoose";
import { afterAll, describe, expect, it } from "vitest";
import { connectMongo } from "../../src/db/connect.js";
import { startEmbeddedDatabase } from "../../src/db/embedded.js";
import { HttpServer } from "../../src/http.js";
import { pingWithin } from "../../src/db/connect.js";
import { silentLogger } from "../../src/log.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dvbot-embedded-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const options = (dataDir: string) => ({
  dataDir,
  ferretdbBin: process.env.FERRETDB_BIN,
  log: silentLogger(),
});

describe("the embedded database", () => {
  it("keeps data across a restart of the server", async () => {
    const dataDir = tempDir();
    const first = await startEmbeddedDatabase(options(dataDir));
    expect(first.dataPath.startsWith(dataDir)).toBe(true);
    const schema = new Schema({ code: String, title: String });
    const connection = await connectMongo(first.uri, "restart");
    await connection
      .model("Plan", schema)
      .create({ code: "DVCQ-Q4-2025", title: "Kế hoạch dân vận chính quyền quý 4" });
    await connection.close();
    await first.stop();

    const second = await startEmbeddedDatabase(options(dataDir));
    const again = await connectMongo(second.uri, "restart");
    const plan = await again.model("Plan", schema).findOne({ code: "DVCQ-Q4-2025" }).lean();
    expect(plan?.title).toBe("Kế hoạch dân vận chính quyền quý 4");
    await again.close();
    await second.stop();
  });

  it("/readyz answers 503 once the database is gone, while /healthz stays 200", async () => {
    const server = await startEmbeddedDatabase(options(tempDir()));
    const connection = await connectMongo(server.uri, "ready");
    const http = new HttpServer(silentLogger(), async () => ({
      ok: await pingWithin(connection, 1000),
      detail: { database: server.kind },
    }));
    const port = await http.listen(0, "127.0.0.1");
    const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`);
    try {
      expect((await get("/readyz")).status).toBe(200);
      await server.stop();
      const down = await get("/readyz");
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: "unavailable", database: server.kind });
      expect((await get("/healthz")).status).toBe(200);
      expect((await get("/nothing-here")).status).toBe(404);
    } finally {
      await http.close();
      await connection.close(true);
    }
  });
});
