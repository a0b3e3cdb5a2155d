import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { oaTokenModel, resealOaTokens } from "../../bots/zalo/oa-tokens.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";

/**
 * `npm run keys:rotate`: reseals, with the first key of DATA_ENCRYPTION_KEYS, every ticket's
 * personal data and words and everything else sealed with a data key: message texts in the
 * outbox, updates not yet handled, flows in progress, people's names and display names, the audit
 * log's names, the Zalo OA tokens — sealing what an earlier version kept in the clear — and
 * remakes the lookup hashes it can (name search, ticket phone and text) under the new key. Invite
 * and link codes are kept only as hashes, so theirs cannot be remade: keep the old key until the
 * invites made before have expired (7 days). Run it after putting a new key first; then the old
 * key can be removed. Each ticket whose identity was resealed is in the audit log under
 * "system:keys-rotate".
 */
async function main(): Promise<number> {
  const { positionals } = parseArgs({ allowPositionals: true });
  if (positionals[0] !== "rotate") {
    console.error(t.cli.keysUsage);
    return 2;
  }
  const { db, app } = await openCliApp();
  try {
    const tickets = await app.feedback.resealAll("system:keys-rotate", systemClock.now());
    const messages = (await app.outbox.reseal()) + (await app.inbox.reseal()) + (await app.sessions.reseal());
    console.log(t.cli.resealed(tickets, messages));
    const people =
      (await app.people.resealAll()) +
      (await app.feedback.audit.reseal()) +
      (await app.invites.hashLegacyCodes());
    if (people > 0) console.log(t.cli.resealedPeople(people));
    const oaTokens = await resealOaTokens(oaTokenModel(db.connection), app.sealer);
    if (oaTokens > 0) console.log(t.cli.resealedOaTokens(oaTokens));
    return 0;
  } finally {
    await db.close();
  }
}

runTool(main);
