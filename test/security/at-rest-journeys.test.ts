import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { parseTranscript, runTranscript } from "../../bots/console/transcript.js";
import { App } from "../../src/app.js";
import { rotateKeys } from "../../src/cli/rotate.js";
import { FixedClock } from "../../src/clock.js";
import { Sealer, type DataKey } from "../../src/privacy/sealer.js";
import { fold } from "../../src/text/normalize.js";
import { ORG, readableAtRest, useOwnServer } from "../support/db.js";

/**
 * The journeys at-rest.test.ts does not walk, played as transcripts with their logs kept: content
 * sent over several messages and dumped while the flow is still open, a ticket handed to a unit
 * whose newly invited official answers it, a second round, wrong guesses; then a key rotation run
 * twice and the bot restarted with the new key only.
 */

/** A server of this test's own, so its SQLite files (and WAL) hold only this test's database. */
const db = useOwnServer(import.meta.filename);

/** Everything the bot logs, at every level, as the operator's log files would keep it. */
const logs: string[] = [];
const log = pino(
  { level: "debug" },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString("utf8"));
      done();
    },
  }),
);
const clock = new FixedClock("2026-11-30T02:00:00Z");
const key = (id: string): DataKey => ({ id, key: randomBytes(32) });

async function play(source: string, sealer: Sealer): Promise<string> {
  const result = await runTranscript(parseTranscript(source), {
    connection: db.connection,
    clock,
    log,
    orgName: ORG,
    timeZone: "Asia/Ho_Chi_Minh",
    sealer,
  });
  const output = result.output.join("\n");
  expect(result.failures, output).toEqual([]);
  return output;
}

/**
 * Where any needle (as typed and folded, in lower case) is readable: every collection, the
 * database's files (the SQLite file and its write-ahead log, read while the server runs) and the
 * logs. Console chat ids are made from the speaker's name, so the canary names are written with
 * a dot, which the chat id turns into a dash.
 */
async function readable(needles: string[]): Promise<string[]> {
  const lower = [...new Set(needles.flatMap((n) => [n, fold(n)]).map((n) => n.toLowerCase()))];
  const { collections, files } = await readableAtRest(db.connection, db.dir, lower);
  const found = [...collections, ...files];
  const logged = logs.join("").toLowerCase();
  for (const n of lower) if (logged.includes(n)) found.push(`log: ${n}`);
  return found;
}

describe("personal data at rest, on the journeys around a ticket", () => {
  it("leaves nothing readable mid-flow, after a unit's official answers, a second round and wrong guesses", async () => {
    const sealer = new Sealer([key("j1")]);
    // Content in two messages, dumped before "xong": the flow's state holds it all.
    await play(
      `
!clock 2026-11-30 09:00
!seed
@KQZ.Dispa /gopy
@KQZ.Dispa khiếu nại
@KQZ.Dispa khác
@KQZ.Dispa KQZCONTENTONE Ông Trần Bị Tố đã nhận tiền của tôi.
@KQZ.Dispa KQZCONTENTTWO Việc xảy ra ngày 12/11 tại bộ phận một cửa.
= Đã nhận nội dung
`,
      sealer,
    );
    expect(await readable(["KQZ.Dispa", "KQZCONTENTONE", "KQZCONTENTTWO"])).toEqual([]);

    const output = await play(
      `
@KQZ.Dispa xong
@KQZ.Dispa KQZIDNAME Nguyễn Văn Bình
@KQZ.Dispa KQZADDR 12 Lê Lợi, phường Trung Dũng
@KQZ.Dispa 0911222333
@KQZ.Dispa Gửi
= Mã tra cứu: {k1}
@office /moi
@office khoa hoc
@office 1
= /start {inv}
@KQZ.Official /start {inv}
= Chào mừng
@office /xuly {k1}
@office Thụ lý
@office /xuly {k1}
@office Giao đơn vị xử lý
@office khoa hoc
@KQZ.Official /xuly {k1}
@KQZ.Official Trả lời người gửi
@KQZ.Official KQZANSWER Sở giữ nguyên quyết định.
=@KQZ.Dispa KQZANSWER
@office /xuly {k1}
= KQZ.Official: trả lời
@KQZ.Dispa /khieunai2 {k1}
@KQZ.Dispa KQZSECONDONE Tôi không đồng ý với kết quả.
@KQZ.Dispa KQZSECONDTWO Biên bản không được đọc lại.
@KQZ.Dispa xong
@KQZ.Dispa Gửi
= Mã tra cứu: {k2}
@KQZ.Guesser /tracuu {k1} 0911222335
= Không tìm thấy
@KQZ.Guesser /lienket KQZLINKGUESS
= Mã liên kết không đúng
`,
      sealer,
    );
    expect(output).toContain("KQZ.Official: trả lời — KQZANSWER");
    expect(
      await readable([
        "KQZ.Dispa",
        "KQZCONTENTONE",
        "KQZCONTENTTWO",
        "KQZIDNAME",
        "KQZADDR",
        "0911222333",
        "KQZ.Official",
        "KQZANSWER",
        "KQZSECONDONE",
        "KQZSECONDTWO",
        "KQZ.Guesser",
        "KQZLINKGUESS",
        "0911222335",
      ]),
    ).toEqual([]);
  }, 60_000);

  it("keys:rotate twice in a row changes nothing the second time; the new key alone then reads every record and resumes a flow", async () => {
    await db.connection.dropDatabase();
    const old = key("old");
    const fresh = key("new");
    // A ticket handled by the Office (an official's name on its history, written in the clear by
    // the version before this one), and a flow left open with content in it.
    const before = await play(
      `
!clock 2026-11-30 09:00
!seed
@Dan.Mot /gopy
@Dan.Mot phản ánh
@Dan.Mot khác
@Dan.Mot ROTCONTENT Đèn đường hỏng.
@Dan.Mot xong
@Dan.Mot Để lại thông tin liên hệ
@Dan.Mot ROTNAME Nguyễn Văn A
@Dan.Mot 0911000111
@Dan.Mot Đồng ý
@Dan.Mot Gửi
= Mã tra cứu: {k1}
@office /xuly {k1}
@office Trả lời người gửi
@office ROTANSWER Sở đã báo điện lực.
= Đã gửi trả lời
@Dan.Hai /gopy
@Dan.Hai góp ý
@Dan.Hai khác
@Dan.Hai ROTMIDFLOW nội dung đang viết dở.
`,
      new Sealer([old]),
    );
    const code = /Mã tra cứu: (PA-\d{4}-\d{6})/.exec(before)?.[1] ?? "";
    await db.connection
      .collection("tickets")
      .updateOne({ code }, { $set: { "history.1.byName": "ROTOFFICIAL Nguyễn Thị Mai" } });

    const rotator = new App({
      connection: db.connection,
      clock,
      log,
      orgName: ORG,
      timeZone: "Asia/Ho_Chi_Minh",
      consoleRoles: true,
      sealer: new Sealer([fresh, old]),
    });
    await rotator.ensureIndexes();
    const first = await rotateKeys(rotator, db.connection, clock.now());
    expect(first.tickets).toBe(1);
    expect(first.notCompacted).toEqual([]);
    expect(await rotateKeys(rotator, db.connection, clock.now())).toEqual({
      tickets: 0,
      messages: 0,
      people: 0,
      oaTokens: 0,
      compacted: [],
      notCompacted: [],
    });
    await rotator.stop();
    const underOld: string[] = [];
    for (const { name } of await db.connection.listCollections()) {
      const dump = JSON.stringify(await db.connection.collection(name).find({}).toArray());
      if (/"s1\.old\.|"old\.[A-Za-z0-9_-]{43}"/.test(dump)) underOld.push(name);
    }
    expect(underOld).toEqual([]);
    expect(await readable(["ROTOFFICIAL"])).toEqual([]);

    // Only the new key: the open flow goes on, the filer's phone still finds the ticket from
    // another account, the Office reads it whole, and a person is found by name.
    await play(
      `
@Dan.Hai xong
@Dan.Hai Gửi ẩn danh
= ROTMIDFLOW
@Dan.Hai Gửi
= Mã tra cứu
@Dan.Ba /tracuu ${code} 0911000111
= ROTCONTENT
@office /xuly ${code}
= ROTNAME Nguyễn Văn A
= ROTANSWER
= ROTOFFICIAL Nguyễn Thị Mai: trả lời
@admin /phanquyen
@admin danmot
= Chọn vai trò mới
`,
      new Sealer([fresh]),
    );
  }, 60_000);
});
