import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { App } from "../../src/app.js";
import { FixedClock } from "../../src/clock.js";
import { silentLogger } from "../../src/log.js";
import { Sealer } from "../../src/privacy/sealer.js";
import { t } from "../../src/text/vi.js";
import { runCli } from "../support/cli.js";
import { consoleInbound } from "../support/inbound.js";
import { ORG, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const dataDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-keys-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("npm run keys:rotate", () => {
  it("reseals each ticket under the new key and audits each one as system:keys-rotate", async () => {
    const old = { id: "k2026", key: randomBytes(32) };
    const fresh = { id: "k2027", key: randomBytes(32) };
    const clock = new FixedClock("2025-10-06T02:00:00Z");
    const app = new App({
      connection: db.connection,
      clock,
      log: silentLogger(),
      orgName: ORG,
      timeZone: "Asia/Ho_Chi_Minh",
      sealer: new Sealer([old]),
    });
    await app.ensureIndexes();
    const newOnly = new Sealer([fresh]);
    const filer = await app.people.resolveSpeaker({
      channel: "console",
      senderId: "dan",
      chatId: "dan",
      chatType: "private",
      now: clock.now(),
    });
    const file = async (key: string, content: string, identity?: { name: string; phone: string }) => {
      const result = await app.feedback.file({
        idempotencyKey: key,
        type: identity ? "khieu_nai" : "gop_y",
        field: "khac",
        content,
        attachments: [],
        ...(identity ? { identity, consentAt: clock.now() } : {}),
        filer: { ...filer, channel: "console", chatId: "dan" },
        now: clock.now(),
      });
      if (result.kind !== "filed") throw new Error(`not filed: ${result.kind}`);
      return result.ticket.code;
    };
    const sealed = [
      await file("k1", "Khiếu nại thứ nhất về thủ tục.", { name: "Nguyễn Văn Bình", phone: "0912345678" }),
      await file("k2", "Khiếu nại thứ hai về thủ tục.", { name: "Trần Thị Cúc", phone: "0987654321" }),
    ];
    await file("k3", "Một góp ý không để lại tên.");
    // A reply waiting in the outbox and a /gopy in progress, both sealed under the old key.
    await app.engine.handle(consoleInbound("dan", "/help"));
    await app.engine.handle(consoleInbound("dan", "/gopy"));
    // Their records marked handled (which forgets what they said), as the bot does within seconds.
    await app.engine.idle();
    const sealedUnder = async () => [
      ...(await app.models.Outbox.find().lean()).map((m) => newOnly.keyIdOf(m.textSealed)),
      // An ended flow's last state holds nothing to seal.
      ...(await app.models.Session.find({ dataSealed: { $ne: "" } }).lean()).map((s) =>
        newOnly.keyIdOf(s.dataSealed),
      ),
      // The messages a turn decided, kept with the state it wrote (for recovery).
      ...(await app.models.Session.find({ outboundSealed: { $exists: true } }).lean()).map((s) =>
        newOnly.keyIdOf(s.outboundSealed ?? ""),
      ),
      // And by a turn outside any flow (/help), kept as its decision.
      ...(await app.models.Decision.find().lean()).map((d) => newOnly.keyIdOf(d.outboundSealed)),
    ];
    const messages = (await sealedUnder()).length;
    expect(messages).toBeGreaterThanOrEqual(4);
    expect(await app.models.Decision.countDocuments()).toBe(1);

    const env = {
      MONGODB_URI: inject("mongoUri"),
      MONGODB_DB: db.connection.name,
      DATA_DIR: dataDir,
      DATA_ENCRYPTION_KEYS: [fresh, old].map((k) => `${k.id}:${k.key.toString("base64")}`).join(","),
      FILE_LINK_SECRET: "test-file-link-secret-0123456789abcdef",
    };
    const run = await runCli("src/cli/keys.ts", ["rotate"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    // Three tickets (the anonymous one's words too); the filer, and the two audit entries naming them.
    expect(run.stdout.trim()).toBe(`${t.cli.resealed(3, messages)}\n${t.cli.resealedPeople(3)}`);
    expect(new Set(await sealedUnder())).toEqual(new Set(["k2027"]));
    const [waiting] = await app.models.Outbox.find().lean();
    expect(newOnly.open(waiting?.textSealed ?? "")).not.toBe("");

    for (const ticket of await app.models.Ticket.find({ code: { $in: sealed } }).lean()) {
      expect(newOnly.keyIdOf(ticket.identitySealed ?? "")).toBe("k2027");
      expect(newOnly.open(ticket.identitySealed ?? "")).toContain('"name"');
    }
    for (const ticket of await app.models.Ticket.find().lean()) {
      expect(newOnly.open(ticket.content)).toMatch(/^(Khiếu nại|Một góp ý)/);
      expect(ticket.contentKey.startsWith("k2027.")).toBe(true);
    }
    const [person] = await app.models.Person.find().lean();
    expect(newOnly.keyIdOf(person?.name ?? "")).toBe("k2027");
    expect(person?.nameKeys?.every((h) => h.startsWith("k2027."))).toBe(true);
    const entries = await app.models.Audit.find({ action: "reseal" }).lean();
    expect(
      entries
        .map((a) => [a.ticketCode, newOnly.open(a.personName), a.role, a.personId, a.fields.join(",")])
        .sort(),
    ).toEqual(sealed.map((code) => [code, "system:keys-rotate", "system", undefined, "name,phone"]).sort());
    for (const a of await app.models.Audit.find().lean()) expect(newOnly.keyIdOf(a.personName)).toBe("k2027");

    // Nothing is left under the old key: a second run opens nothing and records nothing.
    const again = await runCli("src/cli/keys.ts", ["rotate"], env);
    expect(again.stdout.trim()).toBe(t.cli.resealed(0, 0));
    expect(await app.models.Audit.countDocuments({ action: "reseal" })).toBe(2);
  });
});
