import { beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import { formatDateTime, type FixedClock } from "../../src/clock.js";
import type { Speaker } from "../../src/domain/people/service.js";
import { GUESS_LIMITS, REPORT_AFTER_REFUSALS } from "../../src/domain/people/throttle.js";
import { FAILURE_WINDOW_MS, MAX_FAILURES } from "../../src/domain/people/invites.js";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase, withTexts } from "../support/db.js";
import { seedDemoPeople } from "../../src/seed.js";
import { say } from "./support.js";

/**
 * Every guess is throttled: a hundred wrong guesses from one account, or at one code from a
 * hundred accounts, get the first few answered and the rest told when to try again — the right
 * answer included, until the window has passed, when it works. Before, /tracuu with a phone,
 * /lienket and /danhgia took wrong guesses without limit: a year's 10⁶ ticket codes could be
 * walked with a filer's phone number, and a link code (with its person's role) guessed.
 */

const SLOW = 60_000;
const TZ = "Asia/Ho_Chi_Minh";
const { account, target } = GUESS_LIMITS;

let app: App;
let clock: FixedClock;
let office: Speaker;

/**
 * A database of its own for each command: FerretDB reads whole collections for most queries, so
 * a hundred guesses cost less where the previous command's hundred left nothing behind.
 */
function freshApp(): void {
  const db = useDatabase(import.meta.filename);
  beforeAll(async () => {
    ({ app, clock } = await buildApp(db.connection));
    await seedDemoPeople(app, clock.now());
    office = await speaker("office");
  }, SLOW);
}

const [waitBefore = "", waitAfter = ""] = t.guesses.wait("\u0000").split("\u0000");
const isWait = (text: string) => text.startsWith(waitBefore) && text.endsWith(waitAfter);

async function speaker(id: string): Promise<Speaker> {
  const found = await app.people.resolveSpeaker({
    channel: "console",
    senderId: id,
    chatId: id,
    chatType: "private",
    now: clock.now(),
  });
  if (!found) throw new Error(`no speaker ${id}`);
  return found;
}

/** A phản ánh filed by `filerId` with a phone number, answered by the Office when `answered`. */
async function ticketOf(filerId: string, phone: string, answered = false): Promise<string> {
  const filer = await speaker(filerId);
  const now = clock.now();
  const result = await app.feedback.file({
    idempotencyKey: `guessing:${filerId}:${phone}`,
    type: "phan_anh",
    field: "thai_do_phuc_vu",
    content: `Nội dung phản ánh của ${filerId} dùng cho kiểm thử dò mã.`,
    attachments: [],
    identity: { name: "Người phản ánh", address: "1 Đường Thử", phone },
    consentAt: now,
    filer: { ...filer, channel: "console", chatId: filerId },
    now,
  });
  if (result.kind !== "filed") throw new Error("not filed");
  const { code } = result.ticket;
  if (answered) await app.feedback.answer(code, "Sở đã tiếp thu và trả lời.", office, now);
  return code;
}

/** What `id` was answered to `text`, as one string. */
async function ask(id: string, text: string): Promise<string> {
  const { text: answer, outcome } = await say(app, id, text);
  expect(outcome).toBe("handled");
  return answer;
}

/** The Office's notices about guessing, as written to the outbox. */
async function officeNotices(): Promise<string[]> {
  const docs = await app.models.Outbox.find({ dedupeKey: { $regex: "#n:guesses:" } }).lean();
  return withTexts(app, docs).map((d) => `${d.chatId}: ${d.text}`);
}

/** Sends `guesses` in order and sorts the answers: refused (told to wait) or not. */
async function guess(
  ids: string[],
  texts: string[],
  waits = isWait,
): Promise<{ answered: string[]; refused: number }> {
  const answered: string[] = [];
  let refused = 0;
  for (const [i, text] of texts.entries()) {
    const answer = await ask(ids[i % ids.length] ?? "", text);
    if (waits(answer)) refused += 1;
    else answered.push(answer);
  }
  return { answered, refused };
}

const wrongPhones = (n: number) => Array.from({ length: n }, (_, i) => `09${String(10_000_000 + i)}`);

describe("/tracuu CODE PHONE", () => {
  freshApp();

  it("one account: 100 wrong phones, 5 answered, the right phone refused until the window has passed", async () => {
    const phone = "0912345678";
    const code = await ticketOf("filer-tracuu-1", phone);
    const start = clock.now();
    const { answered, refused } = await guess(
      ["prober-1"],
      wrongPhones(100).map((p) => `/tracuu ${code} ${p}`),
    );
    expect(answered).toEqual(Array.from({ length: account.max }, () => t.feedback.lookupNotFound(code)));
    expect(refused).toBe(100 - account.max);

    const refusal = await ask("prober-1", `/tracuu ${code} ${phone}`);
    expect(refusal).toBe(t.guesses.wait(formatDateTime(new Date(start.getTime() + account.windowMs), TZ)));

    // The Office heard of it once, however often the account kept trying.
    const notices = await officeNotices();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain((await speaker("prober-1")).ref);
    expect(notices[0]).toContain("/tracuu");

    clock.advance(account.windowMs);
    const card = await ask("prober-1", `/tracuu ${code} ${phone}`);
    expect(card).toContain(code);
    expect(card).toContain("Nội dung phản ánh của filer-tracuu-1");
  });

  it("one code from 100 accounts: 10 answered, then the code waits — though not for its filer", async () => {
    const phone = "0987000111";
    const code = await ticketOf("filer-tracuu-2", phone);
    const probers = Array.from({ length: 100 }, (_, i) => `crowd-${i}`);
    const { answered, refused } = await guess(
      probers,
      wrongPhones(100).map((p) => `/tracuu ${code} ${p}`),
    );
    expect(answered).toHaveLength(target.max);
    expect(refused).toBe(100 - target.max);
    expect(isWait(await ask("crowd-new", `/tracuu ${code} ${phone}`))).toBe(true);
    // Each account guessed once: none is throttled for other codes, and no one was reported.
    expect(await ask("crowd-1", "/tracuu PA-2025-999999 0900000000")).toBe(
      t.feedback.lookupNotFound("PA-2025-999999"),
    );
    // The filer's own account is not guessing.
    expect(await ask("filer-tracuu-2", `/tracuu ${code}`)).toContain(code);

    clock.advance(target.windowMs);
    expect(await ask("crowd-new", `/tracuu ${code} ${phone}`)).toContain(
      "Nội dung phản ánh của filer-tracuu-2",
    );
  });
});

describe("/danhgia CODE", () => {
  freshApp();

  it("100 codes not one's own: 5 answered, then even one's own answered ticket waits for the window", async () => {
    const own = await ticketOf("rater-1", "0911222333", true);
    const { answered, refused } = await guess(
      ["rater-1"],
      Array.from({ length: 100 }, (_, i) => `/danhgia PA-2025-${String(500_000 + i)}`),
    );
    expect(answered).toHaveLength(account.max);
    expect(refused).toBe(100 - account.max);
    expect(isWait(await ask("rater-1", `/danhgia ${own}`))).toBe(true);

    clock.advance(account.windowMs);
    expect(await ask("rater-1", `/danhgia ${own}`)).toContain(t.feedback.askScore(own));
  });
});

describe("/lienket CODE", () => {
  freshApp();

  it("100 wrong link codes: 5 answered, the right code refused until the window has passed", async () => {
    const owner = await speaker("link-owner");
    const { code } = await app.people.createLinkCode(owner.personId, clock.now(), "test:link");
    const { answered, refused } = await guess(
      ["link-prober"],
      Array.from({ length: 100 }, (_, i) => `/lienket WRONG${String(100 + i)}`),
    );
    expect(answered).toEqual(Array.from({ length: account.max }, () => t.basics.linkInvalid));
    expect(refused).toBe(100 - account.max);
    expect(isWait(await ask("link-prober", `/lienket ${code}`))).toBe(true);

    // A link code lives 10 minutes, less than the wait: its owner asks for a new one.
    clock.advance(account.windowMs);
    const fresh = await app.people.createLinkCode(owner.personId, clock.now(), "test:link-again");
    expect(await ask("link-prober", `/lienket ${fresh.code}`)).toBe(t.basics.linked);
  });
});

describe("/start CODE (invites)", () => {
  freshApp();

  it("100 wrong invite codes: 5 answered, the right code refused until the window has passed", async () => {
    const invite = await app.invites.create("ke-hoach-tai-chinh", "staff", office.personId, clock.now());
    const throttled = (text: string) =>
      text.startsWith(t.officials.throttled("\u0000").split("\u0000")[0] ?? "");
    const { answered, refused } = await guess(
      ["invite-prober"],
      Array.from({ length: 100 }, (_, i) => `/start WRONG${String(100 + i)}`),
      throttled,
    );
    expect(answered).toHaveLength(MAX_FAILURES);
    expect(refused).toBe(100 - MAX_FAILURES);
    expect(throttled(await ask("invite-prober", `/start ${invite.code}`))).toBe(true);

    clock.advance(FAILURE_WINDOW_MS);
    const welcome = await ask("invite-prober", `/start ${invite.code}`);
    expect(throttled(welcome)).toBe(false);
    expect((await speaker("invite-prober")).role).toBe("staff");
  });
});

describe("the Office is told about an account that keeps guessing; the sweep", () => {
  freshApp();

  it(`after ${REPORT_AFTER_REFUSALS} refusals, once a day per account`, async () => {
    const before = (await officeNotices()).length;
    await guess(
      ["persistent"],
      Array.from({ length: account.max + REPORT_AFTER_REFUSALS - 1 }, (_, i) => `/lienket X${i}`),
    );
    expect(await officeNotices()).toHaveLength(before);
    expect(isWait(await ask("persistent", "/lienket X-again"))).toBe(true);
    expect(await officeNotices()).toHaveLength(before + 1);
    expect(isWait(await ask("persistent", "/lienket X-more"))).toBe(true);
    expect(await officeNotices()).toHaveLength(before + 1);
  });

  it("removes the counts no window reads any more", async () => {
    expect(await app.models.GuessFailure.countDocuments()).toBeGreaterThan(0);
    clock.advance(3 * 86_400_000);
    await app.sweep();
    expect(await app.models.GuessFailure.countDocuments()).toBe(0);
  });
});
