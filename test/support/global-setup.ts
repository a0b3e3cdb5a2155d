import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import {
  findFerretdb,
  startFerretdb,
  startMemoryServer,
  type EmbeddedServer,
} from "../../src/db/embedded.js";

declare module "vitest" {
  export interface ProvidedContext {
    mongoUri: string;
    databaseKind: string;
  }
}

/**
 * Starts one MongoDB-compatible server for the whole run, resolved like the app does:
 * MONGODB_URI → a FerretDB binary (FERRETDB_BIN, PATH, the cache `npm run ferretdb:build` fills)
 * → mongodb-memory-server. Each test file then opens its own database on it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.MONGODB_URI;
  if (external) {
    project.provide("mongoUri", external);
    project.provide("databaseKind", "MONGODB_URI");
    return async () => undefined;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "dvbot-test-db-"));
  const bin = findFerretdb(process.env.FERRETDB_BIN);
  let server: EmbeddedServer;
  try {
    server = bin ? await startFerretdb(bin, dir) : await startMemoryServer(dir);
  } catch (error) {
    throw new Error(
      "No MongoDB-compatible server for the tests: run `npm run ferretdb:build` (needs Go), or set MONGODB_URI.",
      { cause: error },
    );
  }
  project.provide("mongoUri", server.uri);
  project.provide("databaseKind", server.kind);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
