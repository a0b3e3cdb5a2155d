import { readFileSync } from "node:fs";

/**
 * Preloaded into a restarted bot (`--import`): its clock runs FAULTS_CLOCK_AHEAD_MS ahead, as if
 * it had come back that much later. The claims the killed process held (the inbox's and the
 * outbox's 60 s leases, which no setting shortens) have then lapsed for it at once, and the
 * matrix need not wait out a minute per kill. Timers and the database are untouched: only what
 * the process reads as "now".
 *
 * With several instances the offset is read from FAULTS_CLOCK_FILE instead, again every 100 ms:
 * at a kill every instance's clock moves ahead together, the survivor's too. A restarted instance
 * alone ahead of a survivor would see the survivor's live leases (the 10 s send lease, its claims)
 * as lapsed for the rest of the case, a skew no real deployment has.
 */
const file = process.env.FAULTS_CLOCK_FILE;
let ahead = Number(process.env.FAULTS_CLOCK_AHEAD_MS ?? 0);

if (file) {
  const read = () => {
    try {
      ahead = Number(readFileSync(file, "utf8")) || 0;
    } catch {
      // The world is being torn down; keep the last offset.
    }
  };
  read();
  setInterval(read, 100).unref();
}

if (ahead > 0 || file) {
  const RealDate = Date;
  // Named Date: libraries find a schema's date type by the constructor's name (mongoose does).
  const AheadDate = class Date extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + ahead);
      else super(...(args as [string | number | Date]));
    }

    static override now(): number {
      return RealDate.now() + ahead;
    }
  };
  globalThis.Date = AheadDate as DateConstructor;
}
