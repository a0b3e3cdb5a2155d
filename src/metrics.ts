/**
 * Counters in the Prometheus text format, for /metrics. Small on purpose: a few named counters
 * with labels, plus gauges read at scrape time (the outbox backlog is a database count).
 */
type Labels = Record<string, string>;

interface Family {
  help: string;
  type: "counter" | "gauge";
  values: Map<string, { labels: Labels; value: number }>;
}

const escape = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
// Label names are ASCII identifiers: a plain comparison orders them, where localeCompare cost
// every counted turn a collator call (and the first one ICU's start-up, in the first turn).
const key = (labels: Labels) =>
  Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}="${escape(v)}"`)
    .join(",");

export class Metrics {
  private readonly families = new Map<string, Family>();

  private family(name: string, help: string, type: Family["type"]): Family {
    let family = this.families.get(name);
    if (!family) {
      family = { help, type, values: new Map() };
      this.families.set(name, family);
    }
    return family;
  }

  /** Adds `by` to a counter. */
  count(name: string, help: string, labels: Labels = {}, by = 1): void {
    const family = this.family(name, help, "counter");
    const id = key(labels);
    const entry = family.values.get(id) ?? { labels, value: 0 };
    entry.value += by;
    family.values.set(id, entry);
  }

  /** Sets a gauge (values read at scrape time). */
  set(name: string, help: string, labels: Labels, value: number): void {
    this.family(name, help, "gauge").values.set(key(labels), { labels, value });
  }

  /** The exposition text: `# HELP`, `# TYPE` and one line per label set. */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const { labels, value } of family.values.values()) {
        const id = key(labels);
        lines.push(`${name}${id ? `{${id}}` : ""} ${value}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }
}

/** The names used across the app, so the dashboard and the code agree. */
export const METRIC = {
  inbound: [
    "dvbot_inbound_total",
    "Inbound updates by channel and outcome (handled, duplicate, failed, deferred to recovery)",
  ],
  outbound: [
    "dvbot_outbound_total",
    "Outbox deliveries by channel and result (sent, retry, rate_limited, dead, paused)",
  ],
  jobRuns: ["dvbot_job_runs_total", "Scheduled job looks by job and outcome"],
  backlog: ["dvbot_outbox_backlog", "Outbox messages not yet sent, by channel and status"],
  paused: [
    "dvbot_outbox_channel_paused",
    "1 while the platform refuses the bot's token and the channel holds its messages",
  ],
  dead: ["dvbot_outbox_dead", "Outbox messages given up, by channel (npm run outbox -- dead)"],
  retrying: ["dvbot_outbox_retrying", "Outbox messages waiting to be sent again after a failed send"],
} as const;
