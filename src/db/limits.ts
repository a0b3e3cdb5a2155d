/**
 * Statements sent in one update command, at most. FerretDB v1.24.2 on SQLite never answers an
 * update command of 100 statements or more, and the database stops answering anyone while it
 * hangs: a count on another connection waits too (measured: 99 statements land in 0.2 s, 100 hang,
 * ordered or not; docs/ferretdb.md). MongoDB takes 100,000. Half the limit leaves a margin.
 */
export const MAX_UPDATES_PER_COMMAND = 50;

/**
 * Documents sent in one insert command, at most (GroupInsert). FerretDB v1.24.2 on SQLite takes an
 * `insertMany` of 250 (docs/ferretdb.md); a batch this size is already far past what a burst of
 * turns makes at once.
 */
export const MAX_INSERTS_PER_COMMAND = 100;
