import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { Inbound } from "../../src/engine/message.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, TEST_SEALER, useDatabase, withTexts } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

/** The Office's officials sheet, loaded in the chat: one invite per row, whatever happens to the turn. */
const db = useDatabase(import.meta.filename);
const fixture = (name: string) => `test/fixtures/plans/${name}`;

async function setup() {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  await seedDemoPeople(app, clock.now());
  // Console "documents" are files on this machine, as in transcripts.
  app.attachmentReaders.set("console", (ref) => readFile(ref));
  const said = async (update: Inbound) =>
    withTexts(
      app,
      await app.models.Outbox.find({ dedupeKey: { $regex: `^${update.dedupeKey}#` } })
        .sort({ _id: 1 })
        .lean(),
    ).map((m) => m.text);
  return { app, clock, said };
}

const sheet = (name = "can-bo.xlsx") => {
  const ref = fixture(name);
  return consoleInbound("office", "", {
    attachments: [{ kind: "document", ref, name, size: readFileSync(ref).length }],
  });
};

describe("officials from an Excel sheet", () => {
  it("«Nạp» replayed after a crash makes no second batch of invites and lists the same codes", async () => {
    const { app, clock, said } = await setup();
    const chat = "console:office:office";
    await app.engine.handle(sheet());
    const { state: before, seq, stateId } = await app.sessions.read(chat, clock.now());
    expect(before?.flow).toBe("taikehoach");

    const load = consoleInbound("office", "Nạp");
    await app.engine.handle(load);
    const first = await said(load);
    expect(first.join("\n")).toContain("Đã tạo 2 mã mời");
    expect(await app.models.Invite.countDocuments()).toBe(2);

    // The crash: the invites were made, then the process died before the replies were written.
    // The update is left as it was recorded (its start state sealed with it), its claim lapsed.
    await app.models.Outbox.deleteMany({ dedupeKey: { $regex: `^${load.dedupeKey}#` } });
    await app.models.InboundRecord.updateOne(
      { dedupeKey: load.dedupeKey },
      {
        $set: {
          status: "received",
          claimedUntil: new Date(0),
          sealed: TEST_SEALER.seal(JSON.stringify({ inbound: load, session: before, seq, stateId })),
        },
      },
    );
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);

    expect(await app.models.Invite.countDocuments()).toBe(2);
    const replayed = await said(load);
    expect(replayed).toEqual(first);
    // And the codes listed are the invites that exist: each joins its person.
    const codes = [...replayed.join("\n").matchAll(/mã ([A-Z0-9]{8})\b/g)].map((m) => m[1] ?? "");
    expect(codes).toHaveLength(2);
    const mai = consoleInbound("mai", `/start ${codes[0]}`);
    await app.engine.handle(mai);
    expect((await said(mai)).join("\n")).toContain("Phòng Chuyển đổi số");
  });
});
