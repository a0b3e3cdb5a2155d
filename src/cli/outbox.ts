import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { ConfigError } from "../config.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";

/**
 * `npm run outbox -- dead [--channel telegram]` lists the messages the outbox gave up: where each
 * was going, how old it is and its last error, never what it said (that may be a citizen's
 * personal data). `npm run outbox -- requeue --all | ID...` puts them back to be sent; a running
 * bot sends them within a second, each chat's in the order they were written.
 */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { all: { type: "boolean" }, channel: { type: "string" } },
  });
  const [action, ...ids] = positionals;
  const usable =
    (action === "dead" && ids.length === 0 && !values.all) ||
    (action === "requeue" && (values.all === true) !== ids.length > 0 && values.channel === undefined);
  if (!usable) {
    console.error(t.cli.outboxUsage);
    return 2;
  }
  const bad = ids.find((id) => !/^[0-9a-f]{24}$/i.test(id));
  if (bad !== undefined) {
    console.error(t.cli.outboxBadId(bad));
    return 2;
  }
  const { db, app } = await openCliApp();
  try {
    if (action === "requeue") {
      const count = await app.outbox.requeue(values.all ? "all" : ids);
      console.log(t.cli.outboxRequeued(count, values.all ? undefined : ids.length));
      return 0;
    }
    const dead = await app.outbox.dead(values.channel ? { channel: values.channel } : {});
    if (dead.length === 0) {
      console.log(t.cli.outboxNoDead);
      return 0;
    }
    const now = systemClock.now().getTime();
    console.log(t.cli.outboxDeadHeader);
    for (const message of dead) {
      const hours = Math.floor((now - message.createdAt.getTime()) / 3_600_000);
      // One line each: a platform's description may carry a line break.
      const error = message.lastError.replace(/\s+/g, " ").slice(0, 160);
      console.log(
        t.cli.outboxDeadLine(
          message.id,
          message.channel,
          message.chatId,
          t.cli.outboxAge(hours),
          error,
          !message.requeueable,
        ),
      );
    }
    console.log(t.cli.outboxDeadTotal(dead.length));
    return 0;
  } finally {
    await db.close();
  }
}

// An operator's tool: a failure is one line saying what happened, never a stack.
runTool(() =>
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) throw error;
    console.error(
      t.cli.outboxFailed((error instanceof Error ? error.message : String(error)).split("\n")[0] ?? ""),
    );
    return 1;
  }),
);
