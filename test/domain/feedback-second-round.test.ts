import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import type { TicketDoc } from "../../src/domain/feedback/schema.js";
import type { Speaker } from "../../src/domain/people/service.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, consoleSpeaker, fileFeedback, filedTicket, useDatabase } from "../support/db.js";

/**
 * A khiếu nại lần hai is linked to its first round the way every ticket change is made: one per
 * version of the ticket, taken by a unique key (FerretDB lets two conditional updates both "win").
 * So a filer sending it twice at once files one, and neither the link nor an Office change made
 * at the same moment is lost.
 */

const db = useDatabase(import.meta.filename);

interface World {
  app: App;
  clock: FixedClock;
  office: Speaker;
  /** A citizen of their own, so that no one reaches the daily filing limit. */
  citizen: (id: string) => Promise<Speaker>;
}

async function world(): Promise<World> {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  clock.set(new Date("2026-11-30T02:00:00Z"));
  await seedDemoPeople(app, clock.now());
  const speaker = (id: string) => consoleSpeaker(app, id);
  return { app, clock, office: await speaker("office"), citizen: speaker };
}

/** A khiếu nại accepted and answered, open to a second round. */
async function answeredComplaint({ app, clock, citizen, office }: World, key: string): Promise<TicketDoc> {
  const { code } = await filedTicket(app, await citizen(key), {
    idempotencyKey: key,
    type: "khieu_nai",
    content: `Khiếu nại quyết định xử phạt, hồ sơ ${key}.`,
    identity: { name: "Nguyễn Văn Bình", address: "12 Lê Lợi" },
    informedAt: clock.now(),
    chatId: key,
  });
  await app.feedback.accept(code, office, clock.now());
  return app.feedback.answer(code, "Giữ nguyên quyết định.", office, clock.now());
}

/** The second round of `first`, filed by its filer (whose id is the first filing's key). */
async function fileSecond({ app, clock, citizen }: World, first: TicketDoc, key: string, chatId = "console") {
  return fileFeedback(app, await citizen(first.idempotencyKey), {
    idempotencyKey: key,
    type: "khieu_nai",
    content: `Tôi không đồng ý với kết quả giải quyết lần đầu (${key}).`,
    secondRoundOf: first,
    informedAt: clock.now(),
    chatId,
  });
}

describe("a khiếu nại lần hai and its first round", () => {
  it("files one second round when the filer sends it from two chats at the same moment", async () => {
    const w = await world();
    for (let i = 0; i < 3; i += 1) {
      const first = await answeredComplaint(w, `twice-${i}`);
      const results = await Promise.all([
        fileSecond(w, first, `twice-${i}-telegram`, "telegram-chat"),
        fileSecond(w, first, `twice-${i}-zalo`, "zalo-chat"),
      ]);
      expect(results.map((r) => r.kind).sort()).toEqual(["filed", "second_round_taken"]);
      const seconds = await w.app.models.Ticket.find({ firstCode: first.code }).lean();
      expect(seconds).toHaveLength(1);
      const linked = await w.app.feedback.byCode(first.code);
      expect(linked?.secondCode).toBe(seconds[0]?.code);
      expect(linked?.history.filter((h) => h.action === "second_round")).toHaveLength(1);
    }
  });

  it("loses neither the link nor an Office change made to the first ticket at the same moment", async () => {
    const w = await world();
    for (let i = 0; i < 4; i += 1) {
      const first = await answeredComplaint(w, `race-${i}`);
      const [second, closed] = await Promise.allSettled([
        fileSecond(w, first, `race-${i}-second`),
        w.app.feedback.close(first.code, w.office, w.clock.now(), `race-${i}-close`),
      ]);
      if (second.status !== "fulfilled" || second.value.kind !== "filed")
        throw new Error("second round lost");
      const after = await w.app.feedback.byCode(first.code);
      expect(after?.secondCode).toBe(second.value.ticket.code);
      const actions = after?.history.map((h) => h.action) ?? [];
      expect(actions.filter((a) => a === "second_round")).toHaveLength(1);
      // A change that said it was made is on the ticket; one that lost the race said so.
      if (closed.status === "fulfilled") {
        expect(after?.status).toBe("closed");
        expect(actions).toContain("closed");
      } else {
        expect(String(closed.reason)).toContain("bad_state");
        expect(actions).not.toContain("closed");
      }
    }
  });

  it("links on the replay a second round whose turn died before linking it", async () => {
    const w = await world();
    const first = await answeredComplaint(w, "crash");
    const filed = await fileSecond(w, first, "crash-second");
    if (filed.kind !== "filed") throw new Error("not filed");
    // As if the turn died between filing the second round and linking it.
    const stored = await w.app.models.Ticket.findOne({ code: first.code }).lean();
    await w.app.models.Ticket.updateOne(
      { code: first.code },
      {
        $unset: { secondCode: "" },
        $set: { history: stored?.history.filter((h) => h.action !== "second_round") ?? [] },
      },
    );
    expect((await w.app.feedback.byCode(first.code))?.secondCode).toBeUndefined();
    // Another attempt from another chat finds it taken; the replay links it.
    expect((await fileSecond(w, first, "crash-other", "zalo-chat")).kind).toBe("second_round_taken");
    const replay = await fileSecond(w, first, "crash-second");
    expect(replay).toMatchObject({ kind: "filed", ticket: { code: filed.ticket.code } });
    const linked = await w.app.feedback.byCode(first.code);
    expect(linked?.secondCode).toBe(filed.ticket.code);
    expect(linked?.history.filter((h) => h.action === "second_round")).toHaveLength(1);
    expect(await w.app.models.Ticket.countDocuments({ firstCode: first.code })).toBe(1);
  });
});
