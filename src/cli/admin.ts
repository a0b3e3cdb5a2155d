import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { CHANNELS, type ChannelName } from "../config.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";

/**
 * `npm run admin -- add telegram:123456789 --name "Nguyễn Văn A"` makes that account an admin
 * (the person is created if they never wrote to the bot); `npm run admin -- list` shows the
 * admins and the Office. The first admin can also come from ADMIN_ACCOUNTS.
 */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { name: { type: "string" } },
  });
  const [action, account] = positionals;
  const match = /^([a-z]+):([A-Za-z0-9_.-]{1,64})$/.exec(account ?? "");
  const channel = match?.[1] as ChannelName | undefined;
  if (!(action === "list" || (action === "add" && channel && CHANNELS.includes(channel) && match?.[2]))) {
    console.error(t.cli.adminUsage);
    return 2;
  }
  const { db, app } = await openCliApp();
  try {
    if (action === "add" && channel && match?.[2]) {
      const admin = await app.people.ensureAdmin(channel, match[2], values.name, systemClock.now());
      console.log(t.cli.adminAdded(admin.name, admin.ref, `${channel}:${match[2]}`));
    } else {
      for (const role of ["admin", "office", "leader"] as const) {
        for (const person of await app.people.list({ role })) {
          const accounts = await app.people.accountsOf(person._id.toString());
          console.log(
            `${person.ref}  ${t.people.role(role)}  ${person.name}  ${accounts.map((a) => `${a.channel}:${a.externalId}`).join(", ")}`,
          );
        }
      }
    }
    return 0;
  } finally {
    await db.close();
  }
}

runTool(main);
