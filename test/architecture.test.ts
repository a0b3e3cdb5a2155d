import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

function files(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    return statSync(path.join(root, rel)).isDirectory() ? files(rel) : rel.endsWith(".ts") ? [rel] : [];
  });
}

function imports(file: string): string[] {
  const source = readFileSync(path.join(root, file), "utf8");
  // `… from "x"`, a bare `import "x"` and a dynamic `import("x")`.
  const pattern = /(?:\bfrom\s+|^\s*import\s+|\bimport\(\s*)["']([^"']+)["']/gm;
  return [...source.matchAll(pattern)].map((m) => m[1] ?? "");
}

function resolved(file: string, spec: string): string {
  return spec.startsWith(".") ? path.join(path.dirname(file), spec) : spec;
}

describe("the picture in ARCHITECTURE.md stays true", () => {
  it("src/engine and src/domain import no platform, no HTTP and no channel", () => {
    const forbidden = /^(grammy|@grammyjs\/|node:http|node:https|http|https|bots\/)/;
    const offenders = [...files("src/engine"), ...files("src/domain")].flatMap((file) =>
      imports(file)
        .map((spec) => resolved(file, spec))
        .filter((target) => forbidden.test(target))
        .map((target) => `${file} → ${target}`),
    );
    expect(offenders).toEqual([]);
  });

  it("no channel imports another channel", () => {
    const channels = readdirSync(path.join(root, "bots"));
    const offenders = channels.flatMap((channel) =>
      files(`bots/${channel}`).flatMap((file) =>
        imports(file)
          .map((spec) => resolved(file, spec))
          .filter((target) => target.startsWith("bots/") && !target.startsWith(`bots/${channel}/`))
          .map((target) => `${file} → ${target}`),
      ),
    );
    expect(offenders).toEqual([]);
  });

  it("adapters write no Vietnamese sentence of their own: it comes from the catalog", () => {
    // Any accented Latin letter inside a string literal.
    const vietnamese = /["'`][^"'`]*[\u00C0-\u1EF9][^"'`]*["'`]/;
    const offenders = files("bots").filter((file) =>
      readFileSync(path.join(root, file), "utf8")
        .split("\n")
        .some((line) => !/^\s*(\*|\/\/|\/\*)/.test(line) && vietnamese.test(line)),
    );
    expect(offenders).toEqual([]);
  });
});
