import type { Claims } from "../db/claims.js";

/** How long one instance sends a channel alone before the instances may change over. */
export const SEND_LEASE_MS = 10_000;
/** Every how many windows the holder looks for another instance's request (SendLease.othersLately). */
const ASKED_EVERY = 3;

/**
 * One sender per channel at a time, across every instance on the database. The platforms' limits
 * are per bot (Telegram: about 30 messages a second in all, one a second per chat), and a limiter
 * kept in one process's memory only holds if that process is the only one sending. So sending is
 * done in turns: time is cut into windows of `leaseMs`, and the instance that first claims a
 * window (a unique key in `claims`, the one exclusive write FerretDB and MongoDB both honour)
 * sends that window alone. The others claim nothing from the outbox meanwhile — a message they
 * took only to put back would wait a whole window — and the holder's periodic look sends what
 * they wrote. One instance alone pays one insert per window.
 *
 * @example if (await lease.holds(clock.now())) send(); else retryIn(lease.waitMs(clock.now()))
 */
export class SendLease {
  /** The windows this instance holds (the current one, and the next once claimed ahead). */
  private held = new Set<number>();
  /** A window another instance holds: not asked again until it ends. */
  private refused = -1;
  /** When this instance, holding the lease, last found another asking for it (the clock's ms). */
  private othersAskedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly claims: Claims,
    readonly channel: string,
    private readonly owner: string,
    private readonly leaseMs = SEND_LEASE_MS,
  ) {}

  private windowOf(now: Date): number {
    return Math.floor(now.getTime() / this.leaseMs);
  }

  /**
   * Whether this instance may send on the channel now; claims the current window if free. In the
   * last fifth of a window it holds, it claims the next one too: the messages it writes at the
   * change-over are then born claimed (Outbox.claimAtBirth asks heldAt) instead of waiting for a
   * claim of their own. The next window stays open to whoever asks first, as before.
   */
  async holds(now: Date): Promise<boolean> {
    const window = this.windowOf(now);
    if (!this.held.has(window)) {
      if (window === this.refused || !(await this.take(window, now))) return false;
    }
    const next = window + 1;
    const nearEnd = now.getTime() >= next * this.leaseMs - this.leaseMs / 5;
    if (nearEnd && !this.held.has(next) && this.refused !== next) await this.take(next, now);
    return true;
  }

  private async take(window: number, now: Date): Promise<boolean> {
    if (await this.claims.takeOrHeld(`send:${this.channel}:${window}`, this.owner, now)) {
      // Taken over (the window before was another's): the instance that held it may be writing
      // still, and is taken to be until its requests say otherwise. A read only at a change.
      const before = `send:${this.channel}:${window - 1}`;
      if (!this.held.has(window - 1) && (await this.claims.exists(before).catch(() => true)))
        this.othersAskedAt = now.getTime();
      for (const old of this.held) if (old < window - 1) this.held.delete(old);
      this.held.add(window);
      // Another instance refused the window before: it writes messages this one must find. Asked
      // every third window, as one that waits on the holder asks for every window.
      // A failed read changes nothing: the lease is held, and the next third reads again.
      const asked =
        window % ASKED_EVERY === 0 &&
        (await this.claims.noteFound(this.askedKey(window - 1)).catch(() => false));
      if (asked) this.othersAskedAt = now.getTime();
      return true;
    }
    this.refused = window;
    // Tells the holder that an instance waits on it (see othersLately). Not worth failing for.
    await this.claims.noteById(this.askedKey(window), this.owner, now).catch(() => undefined);
    return false;
  }

  private askedKey(window: number): string {
    return `send-asked:${this.channel}:${window}`;
  }

  /**
   * Whether another instance asked for the lease lately (as this one found when it took a window
   * whose number is a multiple of ASKED_EVERY, in the last such): the holder's look is then the
   * only way the others' messages go, and it looks every second; alone, it may look less often
   * (Dispatcher.lookEvery). A second instance started is found within ASKED_EVERY windows.
   */
  othersLately(now: Date): boolean {
    return now.getTime() - this.othersAskedAt < (ASKED_EVERY + 1) * this.leaseMs;
  }

  /**
   * Milliseconds until this instance should ask again: holding the lease, at the start of the last
   * fifth of the last window it holds (where holds() claims the next one), so it holds on without
   * a gap even if the ask is late by most of a fifth; when the next window was refused to it, or
   * it holds none, at the next window.
   */
  renewInMs(now: Date): number {
    let window = this.windowOf(now);
    if (!this.held.has(window)) return this.waitMs(now);
    while (this.held.has(window + 1)) window += 1;
    const end = (window + 1) * this.leaseMs;
    if (this.refused === window + 1) return Math.max(0, end - now.getTime());
    return Math.max(0, end - this.leaseMs / 5 - now.getTime());
  }

  /** Whether this instance holds the window of `now` already, without asking the database. */
  heldAt(now: Date): boolean {
    return this.held.has(this.windowOf(now));
  }

  /** Milliseconds until the next window, when the lease may change hands. */
  waitMs(now: Date): number {
    return (this.windowOf(now) + 1) * this.leaseMs - now.getTime();
  }
}
