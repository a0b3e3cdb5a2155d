import { describe, expect, it } from "vitest";
import { readProgress } from "../../src/domain/plans/progress.js";

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
