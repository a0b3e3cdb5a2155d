/**
 * Update commands of several statements (the grouped "handled" marks and "sent" records, a
 * rotation's reseal, a job's notice records) leave this process one at a time. FerretDB on
 * PostgreSQL holds one of its 50 connections for every statement of an update command until the
 * command ends, and never answers once the commands running at once add up to 50 statements
 * (docs/ferretdb.md). One at a time, of at most MAX_UPDATES_PER_COMMAND statements, a process
 * holds at most 10 of them, whatever else it runs: four instances stay below the pool.
 */
let last: Promise<unknown> = Promise.resolve();

export function oneUpdateCommandAtATime<T>(command: () => Promise<T>): Promise<T> {
  const run = last.then(command, command);
  last = run.catch(() => undefined);
  return run;
}
