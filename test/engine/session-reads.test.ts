import { describe, expect, it, vi } from "vitest";
import type { SessionState } from "../../src/engine/session.js";
import { buildApp, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);

describe("reading chats' states", () => {
  it("reads the chats asked for together in one command, each its newest state, and a chat with none as none", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    const now = clock.now();
    const state = (step: string): SessionState => ({
      flow: "gopy",
      version: 2,
      step,
      expiresAt: new Date(now.getTime() + 3_600_000),
      data: { step },
    });
    // Three chats: one three states on, one at its first, one never in a flow.
    await app.sessions.save("c:1", 0, state("type"), "u1", now);
    await app.sessions.save("c:1", 1, state("field"), "u2", now);
    await app.sessions.save("c:1", 2, state("content"), "u3", now);
    await app.sessions.save("c:2", 0, state("type"), "u4", now);
    // Another process: nothing remembered, every state read from the database.
    const { app: other } = await buildApp(db.connection, clock);
    const one = vi.spyOn(other.models.Session, "findOne");
    const many = vi.spyOn(other.models.Session, "find");
    try {
      const keys = ["c:0", "c:1", "c:2", "c:3"];
      const read = await Promise.all(keys.map((key) => other.sessions.read(key, now)));
      expect(read.map((r) => [r.seq, r.state?.step])).toEqual([
        [0, undefined],
        [3, "content"],
        [1, "type"],
        [0, undefined],
      ]);
      expect(read[1]?.state?.data).toEqual({ step: "content" });
      // The first alone, as it always was; the three asked meanwhile in one command.
      expect(one).toHaveBeenCalledTimes(1);
      expect(many).toHaveBeenCalledTimes(1);
    } finally {
      one.mockRestore();
      many.mockRestore();
    }
  });
});
