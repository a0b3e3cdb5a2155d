import type { Logger } from "./log.js";

/**
 * Start-up registers how to stop each part; shutdown stops them in reverse order, once, whatever
 * asks for it (SIGINT, SIGTERM, the end of console input). Signals are caught from the first
 * moment, so a stop during start-up still closes what had been opened.
 */
export class Lifecycle {
  private readonly stops: { name: string; stop: () => Promise<void> | void }[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  onStop(name: string, stop: () => Promise<void> | void): void {
    this.stops.push({ name, stop });
  }

  shutdown(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ reason }, "shutting down");
      for (const { name, stop } of [...this.stops].reverse()) {
        try {
          await stop();
        } catch (err) {
          this.log.error({ err, part: name }, "shutdown: a part failed to stop");
        }
      }
      this.log.info("stopped");
    })();
    return this.stopping;
  }

  exitOnSignals(): void {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => void this.shutdown(signal).then(() => process.exit(0)));
    }
  }
}
