/**
 * Statements sent in one update command, at most. FerretDB v1.24.2 on SQLite never answers an
 * update command of 100 statements or more, and the database stops answering anyone while it
 * hangs: a count on another connection waits too (measured: 99 statements land in 0.2 s, 100 hang,
 * ordered or not; docs/ferretdb.md). MongoDB takes 100,000. Half the limit leaves a margin.
 */
export const MAX_UPDATES_PER_COMMAND = 50;
