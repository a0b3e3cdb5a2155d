import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import { deliverAll, numberedChoices, type Rig, startRig, textUpdate, WEBHOOK_SECRET } from "./harness.js";

const db = useDatabase(import.meta.filename);
let rig: Rig | undefined;

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const CITIZEN = "6ede9afa66b88fe6d6a9";

describe("a citizen files feedback on Zalo, answering numbered choices", () => {
  it("walks /gopy with numbers, words without diacritics, and a picture", async () => {
    await db.connection.dropDatabase();
    const { app } = await buildApp(db.connection);
    const r = (rig = await startRig(app));
    const post = async (update: unknown) => {
      const status = await r.post("/zalo/webhook", JSON.stringify(update), {
        "content-type": "application/json",
        "x-bot-api-secret-token": WEBHOOK_SECRET,
      });
      expect(status).toBe(200);
    };
    const say = (text: string) => post(textUpdate(CITIZEN, text));
    const last = async () => {
      await deliverAll(app);
      const text = r.fake.bot.sent.filter((m) => m.chatId === CITIZEN).at(-1)?.text ?? "";
      return { text, choices: numberedChoices(text) };
    };

    await say("/gopy");
    const types = await last();
    expect(types.text).toContain(t.feedback.askType);
    expect(types.choices).toEqual(["Góp ý", "Phản ánh", "Kiến nghị", "Khiếu nại", "Tố cáo"]);

    await say("2");
    const fields = await last();
    expect(fields.text).toContain(t.feedback.askField);
    expect(fields.choices).toContain("Chuyển đổi số");

    await say("chuyen doi so"); // the label, typed without diacritics
    expect((await last()).text).toContain("Xin anh/chị trình bày nội dung phản ánh");

    const content = "Cổng dịch vụ công của Sở không mở được từ sáng nay, báo lỗi 502.";
    await say(content);
    // Content may go on over several messages: the bot says what it has and waits for "xong".
    expect((await last()).text).toBe(t.feedback.contentSoFar(Array.from(content).length, 20_000));

    await post({
      event_name: "message.image.received",
      message: {
        message_id: randomBytes(10).toString("hex"),
        photo_url: "https://photo-stal.zadn.vn/abc/loi-502.jpg",
        caption: "",
        message_type: "CHAT_PHOTO",
        chat: { id: CITIZEN, chat_type: "PRIVATE" },
        from: { id: CITIZEN, display_name: "Nguyễn Thị Hoà", is_bot: false },
        date: 1759716000000,
      },
    });
    expect((await last()).text).toContain(t.feedback.filesCount(1));

    await say("xong");
    const identify = await last();
    expect(identify.choices).toEqual([t.feedback.giveContact, t.feedback.anonymous]);

    await say("gui an danh");
    const confirm = await last();
    expect(confirm.text).toContain("Tệp kèm theo: 1");
    expect(confirm.choices).toEqual([t.feedback.send, t.feedback.cancel]);

    await say("1");
    expect((await last()).text).toContain("Mã tra cứu");

    const stored = await app.models.Ticket.findOne().lean();
    // Read as the service reads it: the words are sealed at rest.
    const ticket = stored ? await app.feedback.byCode(stored.code) : undefined;
    expect(ticket?.type).toBe("phan_anh");
    expect(ticket?.field).toBe("chuyen_doi_so");
    expect(ticket?.content).toBe("Cổng dịch vụ công của Sở không mở được từ sáng nay, báo lỗi 502.");
    expect(ticket?.attachments).toEqual([
      { kind: "photo", ref: "https://photo-stal.zadn.vn/abc/loi-502.jpg" },
    ]);
    expect(ticket?.filer).toMatchObject({ channel: "zalo", chatId: CITIZEN });
    // Every message the citizen got fits in one Zalo message.
    expect(r.fake.bot.sent.every((m) => (m.text ?? "").length <= 2000)).toBe(true);
  });
});
