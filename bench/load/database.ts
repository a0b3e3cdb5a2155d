import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { findFerretdb, startFerretdb } from "../../src/db/embedded.js";

export interface BenchDatabase {
  uri: string;
  /** What the figures were measured on. */
  kind: string;
  stop(): Promise<void>;
}

/** MONGODB_URI when set; else a FerretDB of its own on a free port, with a fresh data folder. */
export async function openBenchDatabase(): Promise<BenchDatabase> {
  if (process.env.MONGODB_URI) {
    return { uri: process.env.MONGODB_URI, kind: "MONGODB_URI", stop: async () => undefined };
  }
  const bin = findFerretdb(process.env.FERRETDB_BIN);
  if (!bin) throw new Error("No database: run `npm run ferretdb:build` or set MONGODB_URI.");
  const dir = mkdtempSync(path.join(os.tmpdir(), "dvbot-bench-db-"));
  const server = await startFerretdb(bin, dir);
  return {
    uri: server.uri,
    kind: "FerretDB v1.24.2 (SQLite), shared by both bots in turn",
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
