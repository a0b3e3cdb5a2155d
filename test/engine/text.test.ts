import { describe, expect, it } from "vitest";
import { parseConsoleLine, senderIdFor } from "../../bots/console/console-channel.js";
import { matchChoice } from "../../src/engine/choices.js";
import { splitText } from "../../src/engine/split.js";
import { cleanInput, fold, parseCommand } from "../../src/text/normalize.js";

describe("reading what people type", () => {
  it("folds Vietnamese for comparison, NFC or NFD, with or without diacritics", () => {
    expect(fold("Hoàn THÀNH")).toBe("hoan thanh");
    expect(fold("Hoàn thành".normalize("NFD"))).toBe("hoan thanh");
    expect(fold("  Đồng   Nai ")).toBe("dong nai");
  });

  it("cleans input: NFC, no control or bidi characters, CRLF, length cap", () => {
    expect(cleanInput("Go\u0301p y\u0301\u0000\u202E")).toBe("Góp ý");
    expect(cleanInput("a\r\nb")).toBe("a\nb");
    expect(cleanInput("😀".repeat(10), 3)).toBe("😀😀😀");
  });

  it("parses commands with arguments and bot suffixes, and nothing else", () => {
    expect(parseCommand("/tracuu PA-2025-000123")).toEqual({ name: "tracuu", args: "PA-2025-000123" });
    expect(parseCommand("/Help@SoKHCN_bot")).toEqual({ name: "help", args: "" });
    expect(parseCommand("/start\nABC")).toEqual({ name: "start", args: "ABC" });
    expect(parseCommand("xin chào /help")).toBeUndefined();
    expect(parseCommand("/")).toBeUndefined();
  });

  it("matches a choice by button value, number, label or label without diacritics", () => {
    const choices = [
      { label: "Phản ánh", value: "phan_anh" },
      { label: "Khiếu nại", value: "khieu_nai" },
      { label: "Góp ý", value: "gop_y" },
    ];
    expect(matchChoice({ text: "", choice: "gop_y" }, choices)?.label).toBe("Góp ý");
    expect(matchChoice({ text: "2" }, choices)?.label).toBe("Khiếu nại");
    expect(matchChoice({ text: "2." }, choices)?.label).toBe("Khiếu nại");
    expect(matchChoice({ text: "khieu nai" }, choices)?.label).toBe("Khiếu nại");
    expect(matchChoice({ text: "GÓP Ý" }, choices)?.label).toBe("Góp ý");
    // A piece of a word is not a word: "kh" begins "Không" as well.
    expect(matchChoice({ text: "kh" }, choices)).toBeUndefined();
    expect(matchChoice({ text: "4" }, choices)).toBeUndefined();
    expect(matchChoice({ text: "tố cáo" }, choices)).toBeUndefined();
    const units = [
      { label: "Phòng Chuyển đổi số", value: "cds" },
      { label: "Phòng Quản lý khoa học", value: "qlkh" },
      { label: "Phòng Quản lý công nghệ", value: "qlcn" },
    ];
    expect(matchChoice({ text: "chuyen doi so" }, units)?.value).toBe("cds");
    expect(matchChoice({ text: "khoa học" }, units)?.value).toBe("qlkh");
    expect(matchChoice({ text: "quản lý" }, units)).toBeUndefined();
    expect(matchChoice({ text: "ong" }, units)).toBeUndefined();
  });

  it("reads console lines: identity switches and replies", () => {
    expect(parseConsoleLine("/as Nguyễn Văn A")).toEqual({
      kind: "switch",
      senderId: "nguyen-van-a",
      senderName: "Nguyễn Văn A",
    });
    expect(parseConsoleLine("/as office")).toMatchObject({ kind: "switch", senderId: "office" });
    expect(parseConsoleLine("^ xong rồi")).toEqual({ kind: "message", text: "xong rồi", replyToLast: true });
    expect(parseConsoleLine("  ")).toEqual({ kind: "empty" });
    expect(senderIdFor("unit_head")).toBe("unit_head");
  });
});

describe("splitting long messages", () => {
  const words = Array.from({ length: 2500 }, (_, i) => `từ${i}`);
  const long = [
    words.slice(0, 800).join(" "),
    words.slice(800, 1600).join("\n"),
    words.slice(1600).join(" "),
  ].join("\n\n");

  it.each([4096, 2000, 100])("keeps every part within %i units and breaks no word", (limit) => {
    const parts = splitText(long, limit);
    expect(parts.every((p) => p.length <= limit && p.length > 0)).toBe(true);
    expect(parts.join(" ").split(/\s+/)).toEqual(words);
  });

  it("prefers paragraph, then line boundaries", () => {
    expect(splitText("một hai\n\nba bốn", 12)).toEqual(["một hai", "ba bốn"]);
    expect(splitText("một hai\nba bốn năm", 12)).toEqual(["một hai", "ba bốn năm"]);
  });

  it("cuts a word longer than the limit, never inside an emoji", () => {
    expect(splitText("a".repeat(10), 4)).toEqual(["aaaa", "aaaa", "aa"]);
    expect(splitText("😀😀😀", 3)).toEqual(["😀", "😀", "😀"]);
  });

  it("leaves a short message alone", () => {
    expect(splitText("  Xin chào  ", 4096)).toEqual(["Xin chào"]);
  });
});
