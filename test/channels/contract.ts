import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { ChannelName, Subject } from "../../src/engine/message.js";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import { handedIn } from "../support/inbound.js";

/** One message as the platform received it from the bot. */
export interface SentMessage {
  /** The platform's message id, as the bot recorded it. */
  id: string;
  text: string;
  /** Button labels, or the labels of numbered lines where the platform has no buttons. */
  choices: string[];
}

/**
 * What a channel's test double must offer so the shared contract can drive it: the real adapter
 * code in the middle, a fake platform server on 127.0.0.1 at the far end.
 */
export interface ChannelHarness {
  readonly channel: ChannelName;
  /** The platform's text limit (Telegram 4096, Zalo 2000). */
  readonly maxTextLength: number;
  /** False where the platform sends no reply-to metadata. */
  readonly replyTo: boolean;
  /**
   * The id the bot knows a platform user by (its channel account's externalId), where it differs
   * from the platform's: a Zalo OA user is "oa:<id>" (bots/zalo/chat-ids.ts).
   */
  accountId?(userId: string): string;
  /** Wires the channel into `app` against a fresh fake platform server. */
  start(app: App): Promise<void>;
  /**
   * A person writes; resolves once the engine has handled it. Returns a handle that
   * `redeliver` sends again exactly as the platform would.
   */
  say(userId: string, text: string, options?: { replyTo?: string }): Promise<unknown>;
  redeliver(update: unknown): Promise<void>;
  /** The person picks choice `index` (0-based) of the last message they got. */
  choose(userId: string, index: number): Promise<void>;
  /** Everything the platform received for that person, after the outbox has been delivered. */
  received(userId: string): Promise<SentMessage[]>;
  stop(): Promise<void>;
}

/** The promises every channel keeps, run against `makeHarness()`. */
export function channelContract(file: string, makeHarness: () => ChannelHarness): void {
  const db = useDatabase(file);

  async function open(): Promise<{ app: App; harness: ChannelHarness }> {
    await db.connection.dropDatabase();
    const { app } = await buildApp(db.connection);
    const harness = makeHarness();
    await harness.start(app);
    return { app, harness };
  }

  describe("channel contract", () => {
    const account = (app: App, harness: ChannelHarness, userId: string) =>
      app.models.ChannelAccount.findOne({ externalId: harness.accountId?.(userId) ?? userId }).lean();

    it("answers /help in Vietnamese", async () => {
      const { harness } = await open();
      try {
        await harness.say("1001", "/help");
        const [help] = await harness.received("1001");
        expect(help?.text).toContain("Các lệnh anh/chị có thể dùng");
      } finally {
        await harness.stop();
      }
    });

    it("handles a redelivered update once", async () => {
      const { harness } = await open();
      try {
        const update = await harness.say("1002", "/start");
        await harness.redeliver(update);
        expect(await harness.received("1002")).toHaveLength(1);
      } finally {
        await harness.stop();
      }
    });

    it("carries Vietnamese intact, whatever its Unicode form", async () => {
      const { app, harness } = await open();
      try {
        const seen = handedIn(app.engine);
        await harness.say("1003", "Tiếng Việt có dấu: Nguyễn Thị Hoà, ĐỒNG Ý".normalize("NFD"));
        expect([...seen.values()].map((i) => i.text)).toEqual(["Tiếng Việt có dấu: Nguyễn Thị Hoà, ĐỒNG Ý"]);
      } finally {
        await harness.stop();
      }
    });

    it("walks a flow with choices: the admin gives a person a role", async () => {
      const { app, harness } = await open();
      try {
        await harness.say("2001", "/start");
        await app.people.ensureAdmin(
          harness.channel,
          harness.accountId?.("2000") ?? "2000",
          "Quản trị",
          new Date(),
        );
        await harness.say("2000", "/phanquyen");
        const target = await account(app, harness, "2001");
        const person = await app.models.Person.findById(target?.personId).lean();
        await harness.say("2000", person?.ref ?? "");
        const roles = (await harness.received("2000")).at(-1);
        expect(roles?.choices).toContain(t.people.role("office"));
        await harness.choose("2000", roles?.choices.indexOf(t.people.role("office")) ?? -1);
        const confirm = (await harness.received("2000")).at(-1);
        expect(confirm?.text).toContain("Xác nhận");
        await harness.choose("2000", 0);
        expect((await harness.received("2000")).at(-1)?.text).toContain("Đã chuyển");
        expect((await harness.received("2001")).at(-1)?.text).toContain(t.people.role("office"));
        expect((await app.models.Person.findById(target?.personId).lean())?.role).toBe("office");
      } finally {
        await harness.stop();
      }
    });

    it("splits a long answer at the platform's limit without breaking words", async () => {
      const { app, harness } = await open();
      try {
        await harness.say("3001", "/start");
        const reader = await account(app, harness, "3001");
        const words = Array.from({ length: 1800 }, (_, i) => `nội-dung-${i}`);
        const text = words.join(" ");
        await app.outbox.enqueue([
          {
            to: { channel: harness.channel, chatId: reader?.chatId ?? "" },
            text,
            dedupeKey: "contract:long",
          },
        ]);
        const parts = (await harness.received("3001")).slice(1);
        expect(parts.length > 1).toBe(text.length > harness.maxTextLength);
        expect(parts.every((p) => p.text.length <= harness.maxTextLength)).toBe(true);
        expect(
          parts
            .map((p) => p.text)
            .join(" ")
            .split(/\s+/),
        ).toEqual(words);
      } finally {
        await harness.stop();
      }
    });

    it("ties a reply to the subject of the message it answers", async () => {
      const { app, harness } = await open();
      const seen: Subject[] = [];
      app.engine.use({
        name: "contract",
        replyHandlers: { task: (_turn, subject) => void seen.push(subject) },
      });
      try {
        await harness.say("4001", "/start");
        const reader = await account(app, harness, "4001");
        await app.outbox.enqueue([
          {
            to: { channel: harness.channel, chatId: reader?.chatId ?? "" },
            text: "Nhắc hạn: nhiệm vụ II.1 đến hạn 31/12/2025.",
            subject: { kind: "task", id: "T-II.1" },
            dedupeKey: "contract:reminder",
          },
        ]);
        const reminder = (await harness.received("4001")).at(-1);
        expect(reminder?.text).toContain("Nhắc hạn");
        if (!harness.replyTo) return;
        await harness.say("4001", "đã hoàn thành", { replyTo: reminder?.id ?? "" });
        expect(seen).toEqual([{ kind: "task", id: "T-II.1" }]);
      } finally {
        await harness.stop();
      }
    });
  });
}
