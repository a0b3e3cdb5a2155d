import { describe, expect, it } from "vitest";
import { readAnswers, readProgress } from "../../src/domain/plans/progress.js";

describe("reading a free-text progress report", () => {
  it.each([
    ["xong", "done", 100],
    ["Xong rồi ạ", "done", 100],
    ["đã hoàn thành", "done", 100],
    ["DA HOAN THANH", "done", 100],
    ["đã hoàn thành 100%", "done", 100],
    ["hoàn tất, đã gửi báo cáo về Văn phòng", "done", 100],
    ["được 70%", "in_progress", 70],
    ["duoc 70 %", "in_progress", 70],
    ["đạt khoảng 45 phần trăm", "in_progress", 45],
    ["đang làm", "in_progress", undefined],
    ["dang thuc hien, du kien tuan sau xong", "in_progress", undefined],
    ["chưa xong, mới được 30%", "in_progress", 30],
    ["chưa hoàn thành", "in_progress", undefined],
    ["đang làm, vướng kinh phí", "blocked", undefined],
    ["gặp khó khăn về nhân lực, được 20%", "blocked", 20],
    ["chưa bắt đầu", "not_started", 0],
    ["chua trien khai", "not_started", 0],
    ["0%", "not_started", 0],
    ["còn 3 ngày nữa xong", "in_progress", undefined],
    ["2 ngày nữa là xong", "in_progress", undefined],
  ])("%s → %s %s", (text, status, percent) => {
    const reading = readProgress(text);
    expect(reading.status).toBe(status);
    expect(reading.percent).toBe(percent);
    expect(reading.note).toBe(text);
  });

  it.each(["cho tôi hỏi hạn nộp là khi nào?", "👍", "đã nhận"])(
    "keeps %s as a note without guessing",
    (text) => {
      expect(readProgress(text)).toEqual({ note: text });
    },
  );

  it("reads NFD text the same", () => {
    expect(readProgress("đã hoàn thành".normalize("NFD")).status).toBe("done");
  });
});

describe("reading a reply to a numbered list of tasks", () => {
  const answers = (text: string, count = 5) => {
    const reading = readAnswers(text, count);
    return reading.kind === "answers" ? reading.answers.map((a) => [a.n, a.text]) : reading;
  };

  it.each([
    [
      "1 xong, 2 được 50%, 3 vướng kinh phí",
      [
        [1, "xong"],
        [2, "được 50%"],
        [3, "vướng kinh phí"],
      ],
    ],
    [
      "1. xong; 2: 50%",
      [
        [1, "xong"],
        [2, "50%"],
      ],
    ],
    [
      "1) xong\n2 - được 50%, vướng kinh phí\n3 đang làm",
      [
        [1, "xong"],
        [2, "được 50%, vướng kinh phí"],
        [3, "đang làm"],
      ],
    ],
    ["3 duoc 70", [[3, "duoc 70"]]],
    [
      "2 xong 15/12, 4 được 2 văn bản",
      [
        [2, "xong 15/12"],
        [4, "được 2 văn bản"],
      ],
    ],
    ["1 50%", [[1, "50%"]]],
  ])("%j → %j", (text, expected) => {
    expect(answers(text)).toEqual(expected);
  });

  it("says what is unclear instead of guessing", () => {
    // Without separators, "2" could start the second answer or belong to the first.
    expect(answers("1 xong 2 duoc 50%")).toEqual({ kind: "ambiguous" });
    expect(answers("xong, 2 được 50%")).toEqual({ kind: "ambiguous" });
    expect(answers("6 xong, 7 50%, 2 xong")).toEqual({ kind: "outOfRange", numbers: [6, 7] });
    expect(answers("0 xong")).toEqual({ kind: "outOfRange", numbers: [0] });
    expect(answers("1 xong, 1 được 50%")).toEqual({ kind: "repeated", n: 1 });
    expect(answers("1, 2 xong")).toEqual({ kind: "empty", n: 1 });
    expect(answers("xong rồi")).toEqual({ kind: "unnumbered", text: "xong rồi" });
    // A list of one: whatever does not start with its number answers it whole.
    expect(readAnswers("2 ngày nữa xong", 1)).toEqual({ kind: "unnumbered", text: "2 ngày nữa xong" });
    expect(readAnswers("xong, 2 bản đã gửi", 1)).toEqual({ kind: "unnumbered", text: "xong, 2 bản đã gửi" });
    expect(readAnswers("1 xong", 1)).toEqual({ kind: "answers", answers: [{ n: 1, text: "xong" }] });
    expect(readAnswers("1 xong, 2 xong", 1)).toEqual({ kind: "outOfRange", numbers: [2] });
    expect(answers("được 50%, vướng kinh phí")).toEqual({
      kind: "unnumbered",
      text: "được 50%, vướng kinh phí",
    });
  });

  it("reads each answer as a report, without diacritics too", () => {
    const reading = readAnswers("1 xong, 2 duoc 50%, 3 vuong kinh phi", 3);
    if (reading.kind !== "answers") throw new Error(reading.kind);
    expect(reading.answers.map((a) => readProgress(a.text))).toEqual([
      { note: "xong", status: "done", percent: 100 },
      { note: "duoc 50%", status: "in_progress", percent: 50 },
      { note: "vuong kinh phi", status: "blocked" },
    ]);
  });
});
