import type { Turn } from "../../engine/turn.js";
import { fold } from "../../text/normalize.js";

/**
 * `/phananh thongke …` and `/mohinh thongke …` belong to the feedback and models features'
 * commands; the statistics themselves are the reports area's. Those features call a handler
 * of this shape when the first word is "thongke" ("thống kê").
 */
export type StatsHandler = (turn: Turn, args: string) => Promise<void>;

/**
 * The rest of the arguments when they ask for statistics, else undefined.
 * @example statsArgs("thống kê quý 4") // "quy 4"
 * @example statsArgs("gop y qua han") // undefined
 */
export function statsArgs(args: string): string | undefined {
  const match = /^(?:thong\s?ke)(?:\s+|$)(.*)$/.exec(fold(args));
  return match ? (match[1] ?? "").trim() : undefined;
}
