import type { Connection } from "mongoose";
import { oaTokenModel, resealOaTokens } from "../../bots/zalo/oa-tokens.js";
import type { App } from "../app.js";

/** What one rotation changed, by kind, for the lines `keys:rotate` prints. */
export interface Rotation {
  tickets: number;
  messages: number;
  /** People's and accounts' names, the audit log's names, invite and link codes. */
  people: number;
  oaTokens: number;
  /** Collections whose files were compacted, and those the server would not compact. */
  compacted: string[];
  notCompacted: string[];
}

/** Every collection that holds sealed or hashed personal data. */
const SEALED_COLLECTIONS = [
  "tickets",
  "people",
  "channel_accounts",
  "audit_log",
  "invites",
  "link_codes",
  "outbox",
  "outbox_sent",
  "inbound",
  "sessions",
  "decisions",
  "zalo_oa_tokens",
];

/**
 * Asks the server to rewrite a collection's files. A rewrite seals nothing, but an update leaves
 * the value it replaced in the database's free space: measured with FerretDB, a name an earlier
 * version kept in clear was still in the SQLite write-ahead log after keys:rotate sealed it, and
 * gone after `compact` with `force` (which FerretDB runs as SQLite's VACUUM). MongoDB compacts
 * WiredTiger files the same way; a server that refuses (a hosted tier, say) is reported.
 */
async function compact(
  connection: Connection,
  names: string[],
): Promise<{ done: string[]; refused: string[] }> {
  const db = connection.db;
  const done: string[] = [];
  const refused: string[] = [];
  if (!db) return { done, refused: names };
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const name of names.filter((n) => existing.has(n))) {
    try {
      await db.command({ compact: name, force: true });
      done.push(name);
    } catch {
      refused.push(name);
    }
  }
  return { done, refused };
}

/**
 * `keys:rotate` without its printing: reseals under the first key everything sealed with a data
 * key, seals what an earlier version kept in clear, remakes the lookup hashes it can, and then,
 * when anything changed, compacts the collections so that the replaced values do not linger in
 * the database's files.
 * @example const rotation = await rotateKeys(app, db.connection, new Date());
 */
export async function rotateKeys(app: App, connection: Connection, now: Date): Promise<Rotation> {
  const tickets = await app.feedback.resealAll("system:keys-rotate", now);
  const messages =
    (await app.outbox.reseal()) +
    (await app.inbox.reseal()) +
    (await app.sessions.reseal()) +
    (await app.decisions.reseal());
  const people =
    (await app.people.resealAll()) +
    (await app.feedback.audit.reseal()) +
    (await app.invites.hashLegacyCodes());
  const oaTokens = await resealOaTokens(oaTokenModel(connection), app.sealer);
  const changed = tickets + messages + people + oaTokens > 0;
  const { done, refused } = changed
    ? await compact(connection, SEALED_COLLECTIONS)
    : { done: [], refused: [] };
  return { tickets, messages, people, oaTokens, compacted: done, notCompacted: refused };
}
