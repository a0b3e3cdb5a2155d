/**
 * Preloaded into a restarted bot (`--import`): its clock runs FAULTS_CLOCK_AHEAD_MS ahead, as if
 * it had come back that much later. The claims the killed process held (the inbox's and the
 * outbox's 60 s leases, which no setting shortens) have then lapsed for it at once, and the
 * matrix need not wait out a minute per kill. Timers and the database are untouched: only what
 * the process reads as "now".
 */
const ahead = Number(process.env.FAULTS_CLOCK_AHEAD_MS ?? 0);

if (ahead > 0) {
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
