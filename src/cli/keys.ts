import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";
import { rotateKeys } from "./rotate.js";

/**
 * `npm run keys:rotate`: reseals, with the first key of DATA_ENCRYPTION_KEYS, every ticket's
 * personal data and words and everything else sealed with a data key: message texts in the
 * outbox, updates not yet handled, flows in progress, people's names and display names, the audit
 * log's names, the Zalo OA tokens — sealing what an earlier version kept in the clear — and
 * remakes the lookup hashes it can (name search, ticket phone and text) under the new key. Invite
 * and link codes are kept only as hashes, so theirs cannot be remade: keep the old key until the
 * invites made before have expired (7 days). Run it after putting a new key first; then the old
 * key can be removed. Each ticket whose identity was resealed is in the audit log under
 * "system:keys-rotate". When anything changed, the collections are compacted (rotate.ts).
 */
async function main(): Promise<number> {
  const { positionals } = parseArgs({ allowPositionals: true });
  if (positionals[0] !== "rotate") {
    console.error(t.cli.keysUsage);
    return 2;
  }
  const { db, app } = await openCliApp();
  try {
    const rotation = await rotateKeys(app, db.connection, systemClock.now());
    console.log(t.cli.resealed(rotation.tickets, rotation.messages));
    if (rotation.people > 0) console.log(t.cli.resealedPeople(rotation.people));
    if (rotation.oaTokens > 0) console.log(t.cli.resealedOaTokens(rotation.oaTokens));
    if (rotation.notCompacted.length > 0) console.log(t.cli.notCompacted(rotation.notCompacted.join(", ")));
    return 0;
  } finally {
    await db.close();
  }
}

runTool(main);
