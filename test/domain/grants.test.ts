import { beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { GrantError, mayGrant } from "../../src/domain/people/invites.js";
import { ROLES } from "../../src/domain/people/roles.js";
import { seedDemoPeople } from "../../src/seed.js";
import { t } from "../../src/text/vi.js";
import { buildApp, consoleSpeaker, liveSession, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);
let app: App;
let clock: FixedClock;

beforeAll(async () => {
  ({ app, clock } = await buildApp(db.connection));
  await seedDemoPeople(app, clock.now());
});

/** What the bot answered `id` (texts and offered choices), in order. */
async function say(id: string, text: string): Promise<{ text: string; choices: string[] }[]> {
  const inbound = consoleInbound(id, text, { receivedAt: clock.now() });
  await app.engine.handle(inbound);
  const docs = await app.models.Outbox.find({ dedupeKey: { $regex: `^${inbound.dedupeKey}#r` } })
    .sort({ dedupeKey: 1 })
    .lean();
  return docs.map((doc) => ({ text: app.outbox.textOf(doc), choices: doc.choices.map((c) => c.label) }));
}

const personOf = (id: string) => consoleSpeaker(app, id);

describe("who may give the Office, leadership and admin roles", () => {
  it("only an admin: the Office gives staff and unit heads", () => {
    for (const role of ROLES) {
      expect(mayGrant("admin", role)).toBe(true);
      expect(mayGrant("office", role)).toBe(role === "staff" || role === "unit_head");
      for (const other of ["citizen", "staff", "unit_head", "leader"] as const)
        expect(mayGrant(other, role)).toBe(false);
    }
  });

  it("/moi by the Office offers staff and unit head only; naming the Office or leadership creates no invite", async () => {
    await say("office", "/moi");
    const [asked] = await say("office", "Chuyển đổi số");
    expect(asked?.choices).toEqual([t.people.role("staff"), t.people.role("unit_head")]);
    expect(asked?.text).toContain(t.officials.inviteAdminOnly);
    for (const typed of [
      t.people.role("office"),
      t.people.role("leader"),
      "van phong so",
      "3",
      "4",
      "admin",
    ]) {
      await say("office", typed);
      expect((await liveSession(app, "console:office:office"))?.step, typed).toBe("role");
    }
    expect(await app.models.Invite.countDocuments({ role: { $in: ["office", "leader", "admin"] } })).toBe(0);
    // The roles it may give still work.
    const [created] = await say("office", "lãnh đạo phòng, đơn vị");
    expect(created?.text).toContain(`Vai trò: ${t.people.role("unit_head")}`);
  });

  it("the service refuses an Office-made invite to a leadership role, and honours none made before", async () => {
    const office = await personOf("office");
    await expect(
      app.invites.create("van-phong", "leader", office.personId, clock.now()),
    ).rejects.toBeInstanceOf(GrantError);
    await expect(
      app.invites.create("van-phong", "office", office.personId, clock.now()),
    ).rejects.toBeInstanceOf(GrantError);
    // An invite the Office could make before: redeeming it gives nothing and counts no guess.
    const now = clock.now();
    await app.models.Invite.create({
      code: "OLDOFFCE",
      unitKey: "van-phong",
      role: "office",
      createdBy: office.personId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + 86_400_000),
    });
    const [refused] = await say("newcomer", "/start OLDOFFCE");
    expect(refused?.text).toBe(t.officials.inviteRefused.revoked);
    expect((await personOf("newcomer")).role).toBe("citizen");
    expect(await app.models.InviteFailure.countDocuments({})).toBe(0);
  });

  it("/moi by an admin offers every invitable role and an invite to Lãnh đạo Sở works", async () => {
    await say("admin", "/moi");
    const [asked] = await say("admin", "Văn phòng Sở");
    expect(asked?.choices).toEqual(
      ["staff", "unit_head", "office", "leader"].map((r) => t.people.role(r as never)),
    );
    expect(asked?.text).not.toContain(t.officials.inviteAdminOnly);
    const [created] = await say("admin", "Lãnh đạo Sở");
    const code = /Mã mời: ([A-Z0-9]{8})/.exec(created?.text ?? "")?.[1] ?? "";
    expect(code).not.toBe("");
    await say("new-leader", `/start ${code}`);
    expect((await personOf("new-leader")).role).toBe("leader");
  });

  it("/phanquyen stays the admin's", async () => {
    const [answer] = await say("office", "/phanquyen");
    expect(answer?.text).toBe(t.engine.forbidden("phanquyen"));
  });
});
