/**
 * Statements sent in one update command, at most. FerretDB v1.24.2 never answers an update
 * command past a size, and while it hangs it answers nobody else either (docs/ferretdb.md):
 * - on SQLite, a command of 100 statements (99 land in 0.2 s), ordered or not;
 * - on PostgreSQL, commands running at once whose statements add up to 50, the size of its pool
 *   of connections to PostgreSQL: each statement holds a connection until its command ends (one
 *   command of 49 lands, of 50 hangs; two of 20 at once land, three hang). Measured 2026-12-01;
 *   with the old limit of 50, `npm run bench -- peer --backend postgres` stopped at its first
 *   wave of "handled" marks.
 * A process sends such commands one at a time (update-gate.ts), so it holds at most 10 of those
 * connections whatever runs in it (marks, "sent" records, a job, a rotation). MongoDB takes 100,000.
 */
export const MAX_UPDATES_PER_COMMAND = 10;

/**
 * Documents sent in one insert command, at most (GroupInsert). FerretDB v1.24.2 on SQLite takes an
 * `insertMany` of 250 (docs/ferretdb.md); a batch this size is already far past what a burst of
 * turns makes at once.
 */
export const MAX_INSERTS_PER_COMMAND = 100;
