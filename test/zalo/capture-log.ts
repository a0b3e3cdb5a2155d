import { Writable } from "node:stream";
import { pino, type Logger } from "pino";

/** A real pino logger whose lines are kept, so a test can say what was (not) logged. */
export function captureLog(): { log: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
        lines.push(JSON.parse(line) as { level: number; msg: string });
      }
      done();
    },
  });
  return { log: pino({ level: "debug" }, stream), lines };
}

/** pino's level for warn; anything at or above it is a complaint. */
export const WARN = 40;
