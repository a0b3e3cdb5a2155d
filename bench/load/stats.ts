/** The value below which `p` percent of the samples fall (nearest rank); 0 for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

/** What the simulated people saw, counted as they go. */
export class Recorder {
  /** Distinct updates sent (a redelivery of the same update is not counted again). */
  sent = 0;
  /** Updates whose expected reply arrived at the fake platform. */
  answered = 0;
  /** Updates whose reply never came within the step timeout. */
  lost = 0;
  /** POSTs repeated because the first did not get a 200 (connection refused or reset, 5xx). */
  retries = 0;
  /** Updates posted a second time after a 200, as Telegram does after a timeout and Zalo at times. */
  resent = 0;
  /**
   * Tries the bot turned down and the person made again: a press answered "no longer valid"
   * because the bot had not yet recorded sending that keyboard, a reply to a reminder it could
   * not tie to the reminder yet.
   */
  refused = 0;
  /** Milliseconds from the first POST of an update to its reply reaching the fake platform. */
  readonly latencies: number[] = [];
  /** Milliseconds from the first POST to the 200 (the bot has recorded and handled the update). */
  readonly acks: number[] = [];
  /** The latencies by step name (a flow's steps differ in work: where the tail comes from). */
  readonly byStep = new Map<string, number[]>();
  /** When the answers reached the platform (ms, the same clock as the posts), in arrival order. */
  readonly answeredAt: number[] = [];
  firstPostAt = Number.POSITIVE_INFINITY;
  lastReplyAt = 0;

  posted(at: number): void {
    this.sent += 1;
    this.firstPostAt = Math.min(this.firstPostAt, at);
  }

  replied(postedAt: number, ackAt: number, replyAt: number, step = ""): void {
    this.answered += 1;
    this.latencies.push(replyAt - postedAt);
    const ofStep = this.byStep.get(step) ?? [];
    ofStep.push(replyAt - postedAt);
    this.byStep.set(step, ofStep);
    this.acks.push(ackAt - postedAt);
    this.answeredAt.push(replyAt);
    this.lastReplyAt = Math.max(this.lastReplyAt, replyAt);
  }

  /** Seconds from the first update to the last reply. */
  get seconds(): number {
    return this.answered === 0 ? 0 : (this.lastReplyAt - this.firstPostAt) / 1000;
  }

  /**
   * Answers in each whole second from the first update, the run's shape: a bot held below the
   * platform's cap shows where (the first wave, a stall, the last people walking alone).
   */
  get answersPerSecond(): number[] {
    const counts: number[] = [];
    for (const at of this.answeredAt) {
      const second = Math.max(0, Math.floor((at - this.firstPostAt) / 1000));
      while (counts.length <= second) counts.push(0);
      counts[second] = (counts[second] ?? 0) + 1;
    }
    return counts;
  }

  /** Updates answered per second over the run. */
  get throughput(): number {
    return this.seconds > 0 ? this.answered / this.seconds : 0;
  }
}

/** A small deterministic generator, so two runs make the same choices (which steps are resent). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}
