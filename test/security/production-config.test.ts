import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { t } from "../../src/text/vi.js";

const root = path.resolve(import.meta.dirname, "../..");
const URI = "mongodb://db.internal:27017";
const KEYS = `k1:${randomBytes(32).toString("base64")}`;
const SECRET = "f".repeat(64);

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("a real server's secrets", () => {
  it.each([
    [{ MONGODB_URI: URI }, "DATA_ENCRYPTION_KEYS", t.config.dataKeysNeeded],
    [{ MONGODB_URI: URI, FILE_LINK_SECRET: SECRET }, "DATA_ENCRYPTION_KEYS", t.config.dataKeysNeeded],
    [{ MONGODB_URI: URI, DATA_ENCRYPTION_KEYS: KEYS }, "FILE_LINK_SECRET", t.config.fileLinkSecretNeeded],
    // An empty value in .env is no value.
    [
      { MONGODB_URI: URI, DATA_ENCRYPTION_KEYS: KEYS, FILE_LINK_SECRET: "" },
      "FILE_LINK_SECRET",
      t.config.fileLinkSecretNeeded,
    ],
  ])("are required once MONGODB_URI is set: %j stops at %s", (env, variable, detail) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toBe(t.config.invalid(variable, detail));
    expect(error.message).not.toContain("\n");
  });

  it("are taken when given, and the embedded database keeps its development fallbacks", () => {
    const production = loadConfig({ MONGODB_URI: URI, DATA_ENCRYPTION_KEYS: KEYS, FILE_LINK_SECRET: SECRET });
    expect(production.fileLinkSecret).toBe(SECRET);
    expect(production.dataKeys?.map((k) => k.id)).toEqual(["k1"]);
    const development = loadConfig({});
    expect(development.mongoUri).toBeUndefined();
    expect(development.fileLinkSecret).toBeUndefined();
    expect(development.dataKeys).toBeUndefined();
  });

  it("stop the bot at start with one line naming the missing variable", async () => {
    // Nothing listens at this address: the bot must stop before it tries to connect.
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        MONGODB_URI: "mongodb://127.0.0.1:1/nothing-listens-here",
        DATA_ENCRYPTION_KEYS: KEYS,
        PORT: "0",
      },
    });
    child.stdin.end();
    const output = { stdout: "", stderr: "" };
    child.stdout.on("data", (c: Buffer) => (output.stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output.stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(1);
    expect(output.stderr.trim().split("\n")).toEqual([
      t.config.invalid("FILE_LINK_SECRET", t.config.fileLinkSecretNeeded),
    ]);
    expect(output.stdout).toBe("");
  });
});
