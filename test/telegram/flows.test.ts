import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import { EVERYONE } from "../../src/domain/people/roles.js";
import { defineFlow } from "../../src/engine/flow.js";
import type { Choice, Subject } from "../../src/engine/message.js";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import { startRig, type TelegramRig } from "./harness.js";
import { handedIn } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);

const LONG_VALUE = `unit:${"phong-quan-ly-chuyen-nganh-va-chuyen-doi-so-".repeat(2)}`;

/**
 * Two small flows of our own, registered through the engine's public surface like any feature:
 * a citizen question with buttons, and a step that takes a photo as evidence.
 */
function testFeature(app: App, choices: Choice[]): void {
  const survey = defineFlow<{ answer?: string }>({
    name: "tg_survey",
    version: 1,
    roles: EVERYONE,
    ttlMinutes: 30,
    first: "pick",
    initial: () => ({}),
    steps: {
      pick: {
        prompt: () => "Anh/chị đánh giá thế nào về dịch vụ công trực tuyến?",
        choices: () => choices,
        accept: (answer) => ({ data: { answer: answer.choice?.value ?? "" } }),
      },
    },
    finish: (data, turn) => turn.reply(`Đã ghi nhận: ${data.answer}`),
  });
  const evidence = defineFlow<{ ref?: string }>({
    name: "tg_evidence",
    version: 1,
    roles: EVERYONE,
    ttlMinutes: 30,
    first: "photo",
    initial: () => ({}),
    steps: {
      photo: {
        prompt: () => "Xin gửi ảnh minh chứng.",
        freeText: true,
        accept: (answer) =>
          answer.attachments[0]
            ? { data: { ref: `${answer.attachments[0].kind}:${answer.attachments[0].ref} — ${answer.text}` } }
            : { error: "Chưa thấy ảnh." },
      },
    },
    finish: (data, turn) => turn.reply(`Đã nhận ${data.ref}`),
  });
  app.engine.use({
    name: "telegram-test",
    commands: [
      {
        name: "khaosat",
        roles: EVERYONE,
        description: "Khảo sát",
        run: (turn) => turn.startFlow("tg_survey"),
      },
      {
        name: "minhchung",
        roles: EVERYONE,
        description: "Minh chứng",
        run: (turn) => turn.startFlow("tg_evidence"),
      },
    ],
    flows: [survey, evidence],
  });
}

const CHOICES: Choice[] = [
  { label: "Hài lòng", value: "good" },
  { label: "Chưa hài lòng", value: "bad" },
];

async function rig(choices: Choice[] = CHOICES): Promise<TelegramRig> {
  await db.connection.dropDatabase();
  const { app } = await buildApp(db.connection);
  testFeature(app, choices);
  return startRig(app);
}

describe("a citizen flow with buttons", () => {
  it("choices are an inline keyboard; a press is answered, its keyboard removed, and the flow goes on", async () => {
    const r = await rig();
    try {
      expect(await r.post(r.updates.text("6001", "/khaosat"))).toBe(200);
      await r.deliver();
      const question = r.fake.messagesTo("6001").at(-1);
      // Each button carries the step token: the chat's session sequence number after /khaosat.
      expect(question?.sentMarkup?.inline_keyboard).toEqual([
        [{ text: "Hài lòng", callback_data: "\u00a71:good" }],
        [{ text: "Chưa hài lòng", callback_data: "\u00a71:bad" }],
      ]);
      if (!question) return;

      const press = r.updates.press("6001", question, 1);
      const seen = handedIn(r.app.engine);
      expect(await r.post(press)).toBe(200);
      await r.channel.idle();
      expect(r.fake.callsOf("answerCallbackQuery").map((c) => c.params)).toEqual([
        { callback_query_id: press.callback_query?.id, text: t.channels.choiceTaken("Chưa hài lòng") },
      ]);
      expect(r.fake.callsOf("editMessageReplyMarkup").map((c) => c.params)).toEqual([
        { chat_id: "6001", message_id: question.id },
      ]);
      expect(r.fake.messageById("6001", question.id)?.message.reply_markup).toBeUndefined();
      expect(seen.get(`telegram:${press.update_id}`)).toMatchObject({ choice: "bad", text: "Chưa hài lòng" });
      await r.deliver();
      expect(r.fake.messagesTo("6001").at(-1)?.text).toBe("Đã ghi nhận: bad");
    } finally {
      await r.stop();
    }
  });

  it("a press that comes before its keyboard was marked sent waits for the mark and counts", async () => {
    const r = await rig();
    try {
      await r.post(r.updates.text("6009", "/khaosat"));
      await r.deliver();
      const question = r.fake.messagesTo("6009").at(-1);
      if (!question) throw new Error("no question");
      // As if the platform had shown the message and our "sent" write had not landed yet.
      const doc = await r.app.outbox.model.findOne({ chatId: "6009", "choices.0": { $exists: true } }).lean();
      await r.app.outbox.model.updateOne(
        { _id: doc?._id },
        { $set: { status: "sending", platformMessageIds: [] } },
      );
      const marked = new Promise((resolve) => setTimeout(resolve, 400)).then(() =>
        r.app.outbox.model.updateOne(
          { _id: doc?._id },
          { $set: { status: "sent", platformMessageIds: doc?.platformMessageIds ?? [] } },
        ),
      );
      const press = r.updates.press("6009", question, 0);
      expect(await r.post(press)).toBe(200);
      await marked;
      await r.channel.idle();
      expect(r.fake.callsOf("answerCallbackQuery").map((c) => c.params.text)).toEqual([
        t.channels.choiceTaken("Hài lòng"),
      ]);
      await r.deliver();
      expect(r.fake.messagesTo("6009").at(-1)?.text).toBe("Đã ghi nhận: good");
    } finally {
      await r.stop();
    }
  });

  it("a second press that raced the edit, or a press on an old keyboard, is answered as stale and ignored", async () => {
    const r = await rig();
    try {
      await r.post(r.updates.text("6002", "/khaosat"));
      await r.deliver();
      const first = r.fake.messagesTo("6002").at(-1);
      if (!first) throw new Error("no question");
      const stillShowing = { ...first, message: { ...first.message } };
      await r.post(r.updates.text("6002", "/khaosat"));
      await r.deliver();
      // The first keyboard is no longer the newest: pressing it must not answer the second question.
      const stale = r.updates.press("6002", stillShowing, 0);
      expect(await r.post(stale)).toBe(200);
      await r.channel.idle();
      expect(r.fake.callsOf("answerCallbackQuery").at(-1)?.params.text).toBe(t.channels.staleButton);
      expect(
        await r.app.models.InboundRecord.countDocuments({ dedupeKey: `telegram:${stale.update_id}` }),
      ).toBe(0);
      await r.deliver();
      expect(r.fake.messagesTo("6002").at(-1)?.text).not.toContain("Đã ghi nhận");

      const second = r.fake.messagesTo("6002").at(-1);
      if (!second) throw new Error("no second question");
      const before = { ...second, message: { ...second.message } };
      await r.post(r.updates.press("6002", second, 0));
      await r.channel.idle();
      // A double tap: Telegram sent the second press before our edit removed the keyboard.
      const doubleTap = r.updates.press("6002", before, 0);
      await r.post(doubleTap);
      await r.channel.idle();
      expect(r.fake.callsOf("answerCallbackQuery").at(-1)?.params.text).toBe(t.channels.staleButton);
      expect(
        await r.app.models.InboundRecord.countDocuments({ dedupeKey: `telegram:${doubleTap.update_id}` }),
      ).toBe(0);
      const sentBefore = r.fake.messagesTo("6002").length;
      await r.deliver();
      expect(
        r.fake
          .messagesTo("6002")
          .map((m) => m.text)
          .slice(sentBefore),
      ).toEqual(["Đã ghi nhận: good"]);
    } finally {
      await r.stop();
    }
  });

  it("a button sent before step tokens (bare value, still on a screen) counts on the newest keyboard, once", async () => {
    const r = await rig();
    try {
      await r.post(r.updates.text("6004", "/khaosat"));
      await r.deliver();
      const question = r.fake.messagesTo("6004").at(-1);
      if (!question) throw new Error("no question");
      // The keyboard as an older version sent it: the bare values, no token.
      const bare = (choices: typeof CHOICES) => ({
        inline_keyboard: choices.map((c) => [{ text: c.label, callback_data: c.value }]),
      });
      const old = { ...question, message: { ...question.message, reply_markup: bare(CHOICES) } };
      const press = r.updates.press("6004", old, 0);
      expect(press.callback_query?.data).toBe("good");
      const seen = handedIn(r.app.engine);
      expect(await r.post(press)).toBe(200);
      await r.channel.idle();
      expect(r.fake.callsOf("answerCallbackQuery").at(-1)?.params.text).toBe(
        t.channels.choiceTaken("Hài lòng"),
      );
      expect(seen.get(`telegram:${press.update_id}`)?.step).toBeUndefined();
      await r.deliver();
      expect(r.fake.messagesTo("6004").at(-1)?.text).toBe("Đã ghi nhận: good");
      // A second tap on that old keyboard is stale, as before.
      const again = r.updates.press("6004", old, 1);
      await r.post(again);
      await r.channel.idle();
      expect(r.fake.callsOf("answerCallbackQuery").at(-1)?.params.text).toBe(t.channels.staleButton);
      expect(
        await r.app.models.InboundRecord.countDocuments({ dedupeKey: `telegram:${again.update_id}` }),
      ).toBe(0);
    } finally {
      await r.stop();
    }
  });

  it("a choice value over 64 bytes rides on a stand-in and still picks the right choice", async () => {
    const r = await rig([
      { label: "Phòng Quản lý chuyên ngành", value: LONG_VALUE },
      { label: "Văn phòng Sở", value: "van-phong" },
    ]);
    try {
      await r.post(r.updates.text("6003", "/khaosat"));
      await r.deliver();
      const question = r.fake.messagesTo("6003").at(-1);
      if (!question) throw new Error("no question");
      const data = question.sentMarkup?.inline_keyboard
        .flat()
        .map((b) => ("callback_data" in b ? b.callback_data : ""));
      expect(data).toEqual(["\u00a71:~1", "\u00a71:van-phong"]);
      await r.post(r.updates.press("6003", question, 0));
      await r.deliver();
      expect(r.fake.messagesTo("6003").at(-1)?.text).toBe(`Đã ghi nhận: ${LONG_VALUE}`);
    } finally {
      await r.stop();
    }
  });
});

describe("replies, files and what cannot be read", () => {
  it("a reply to a reminder in a group reaches the reply handler; topic chatter does not", async () => {
    const r = await rig();
    const seen: Subject[] = [];
    r.app.engine.use({
      name: "reminder-test",
      replyHandlers: { task: (_turn, subject) => void seen.push(subject) },
    });
    try {
      const group = "-1002233445566";
      await r.app.outbox.enqueue([
        {
          to: { channel: "telegram", chatId: group },
          text: "Nhắc hạn: nhiệm vụ III.2 đến hạn 15/11/2025.",
          subject: { kind: "task", id: "T-III.2" },
          dedupeKey: "test:group-reminder",
        },
      ]);
      await r.deliver();
      const reminder = r.fake.messagesTo(group).at(-1);
      if (!reminder) throw new Error("no reminder");
      expect(await r.post(r.updates.group("7001", group, "xong rồi", { replyTo: reminder.message }))).toBe(
        200,
      );
      expect(seen).toEqual([{ kind: "task", id: "T-III.2" }]);

      // In a forum topic the bot created, every message "replies" to the topic's service message.
      const topic = { id: 77, createdBy: r.fake.me };
      expect(await r.post(r.updates.group("7001", group, "anh em nhớ nộp báo cáo", { topic }))).toBe(200);
      expect(seen).toHaveLength(1);
      expect(await r.app.models.InboundRecord.countDocuments()).toBe(1);
    } finally {
      await r.stop();
    }
  });

  it("a photo becomes an attachment (the largest size's file id) and can answer a flow step", async () => {
    const r = await rig();
    try {
      await r.post(r.updates.text("6004", "/minhchung"));
      const photo = r.updates.photo("6004", "Ảnh nghiệm thu");
      const seen = handedIn(r.app.engine);
      expect(await r.post(photo)).toBe(200);
      const largest = photo.message?.photo?.at(-1)?.file_id;
      expect(seen.get(`telegram:${photo.update_id}`)?.attachments).toEqual([
        { kind: "photo", ref: largest, mimeType: "image/jpeg", size: 160_000 },
      ]);
      await r.deliver();
      expect(r.fake.messagesTo("6004").at(-1)?.text).toBe(`Đã nhận photo:${largest} — Ảnh nghiệm thu`);
    } finally {
      await r.stop();
    }
  });

  it("a location is answered politely; a file too large to fetch is refused; neither reaches the engine", async () => {
    const r = await rig();
    try {
      expect(await r.post(r.updates.location("6005"))).toBe(200);
      expect(await r.post(r.updates.document("6005", 30 * 1024 * 1024))).toBe(200);
      await r.deliver();
      expect(r.fake.messagesTo("6005").map((m) => m.text)).toEqual([
        t.channels.unsupportedMessage,
        t.channels.fileTooLarge,
      ]);
      expect(await r.app.models.InboundRecord.countDocuments()).toBe(0);
    } finally {
      await r.stop();
    }
  });
});
