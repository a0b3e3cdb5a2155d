import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { runConsole } from "../../bots/console/interactive.js";
import { FixedClock } from "../../src/clock.js";
import { importPlanFile, seedDemoPeople } from "../../src/seed.js";
import { ORG, buildApp, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const clock = new FixedClock("2025-10-06T02:00:00Z");

/** One `npm start` on the console: a fresh app on the same database, the lines piped in. */
async function run(lines: string[]): Promise<string> {
  const { app } = await buildApp(db.connection, clock);
  const output = new PassThrough();
  let printed = "";
  output.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  try {
    await runConsole({
      app,
      input: Readable.from([`${lines.join("\n")}\n`]),
      output,
      orgName: ORG,
      chatty: false,
    });
  } finally {
    await app.stop();
  }
  return printed;
}

/** The printed messages, each as "<id> <chat>: <text>". */
function messages(printed: string): { id: string; chat: string; text: string }[] {
  return printed
    .split(/\n(?=\[)/)
    .map((block) => /^\s*\[(\S+) → (\S+)\]\n([\s\S]*)$/.exec(block))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ id: m[1] ?? "", chat: m[2] ?? "", text: m[3] ?? "" }));
}

const report = (code: string) => [
  "/as staff",
  "/baocao",
  code,
  "2",
  "60",
  "Đã rà soát 12 thủ tục",
  "xong",
  "gui bao cao",
];

describe("the console of npm start", () => {
  it("handles piped lines one by one, in order: a flow typed ahead is followed step by step", async () => {
    const printed = await run(["/as citizen", "/gopy", "gop y", "/as admin", "/help", "/as citizen", "/huy"]);
    const said = messages(printed);
    expect(said.map((m) => m.chat)).toEqual(["citizen", "citizen", "admin", "citizen"]);
    expect(said[0]?.text).toContain("Anh/chị muốn gửi loại nào?");
    expect(said[1]?.text).toContain("Nội dung thuộc lĩnh vực nào?");
    expect(said[2]?.text).toContain("/phanquyen");
    expect(said[3]?.text).toContain("Đã hủy");
  });

  it("keeps message ids unique across restarts, so a reply on a later run lands on that run's task", async () => {
    await db.connection.dropDatabase();
    const { app } = await buildApp(db.connection, clock);
    await seedDemoPeople(app, clock.now());
    await importPlanFile(app, path.resolve(import.meta.dirname, "../fixtures/plans/small.yaml"), clock.now());
    await app.stop();

    const first = messages(await run(report("ii.3")));
    // The same steps on the next start, for another task: the same number of messages.
    const second = messages(await run([...report("ii.1"), "^ xong rồi"]));
    const firstIds = new Set(first.map((m) => m.id));
    expect(second.filter((m) => firstIds.has(m.id))).toEqual([]);
    expect(second.at(-2)?.text).toContain("Đã ghi nhận báo cáo nhiệm vụ II.1");
    expect(second.at(-1)?.text).toContain("Đã ghi nhận cho nhiệm vụ II.1");

    // "^" on a start where the bot has said nothing yet answers the last message of the one before.
    const third = messages(await run(["/as staff", "^ vướng kinh phí"]));
    expect(third.at(-1)?.text).toContain("nhiệm vụ II.1");
  });
});
