import mongoose, { type Connection } from "mongoose";
import type { Logger } from "../log.js";
import { startEmbeddedDatabase, type EmbeddedServer } from "./embedded.js";

export interface Database {
  connection: Connection;
  /** "MONGODB_URI", "ferretdb" or "mongodb-memory-server": what the log and /readyz report. */
  source: string;
  /** Where an embedded server keeps its files; undefined for an external MongoDB. */
  dataPath: string | undefined;
  /** True when the server answers a ping within the time limit. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** Closes the connection, then stops the embedded server if this process started one. */
  close(): Promise<void>;
}

/**
 * Opens one mongoose connection. Commands are not buffered: when the database is down a request
 * fails at once instead of hanging, and /readyz says so.
 */
export async function connectMongo(uri: string, dbName: string): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    dbName,
    autoIndex: false,
    autoCreate: false,
    bufferCommands: false,
    serverSelectionTimeoutMS: 5000,
  });
  await connection.asPromise();
  return connection;
}

export function pingWithin(connection: Connection, timeoutMs: number): Promise<boolean> {
  const db = connection.db;
  if (!db || connection.readyState !== 1) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    db.admin()
      .ping()
      .then(
        () => resolve(true),
        () => resolve(false),
      )
      .finally(() => clearTimeout(timer));
  });
}

/** MONGODB_URI when set; otherwise the embedded server (see embedded.ts), whose files survive a restart. */
export async function openDatabase(options: {
  uri: string | undefined;
  dbName: string;
  dataDir: string;
  ferretdbBin: string | undefined;
  log: Logger;
}): Promise<Database> {
  let embedded: EmbeddedServer | undefined;
  let uri = options.uri;
  if (!uri) {
    embedded = await startEmbeddedDatabase(options);
    uri = embedded.uri;
  }
  let connection: Connection;
  try {
    connection = await connectMongo(uri, options.dbName);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const source = embedded?.kind ?? "MONGODB_URI";
  options.log.info(
    { database: source, dbName: options.dbName, dataPath: embedded?.dataPath },
    embedded ? `database: embedded ${source}, data in ${embedded.dataPath}` : "database: MONGODB_URI",
  );
  return {
    connection,
    source,
    dataPath: embedded?.dataPath,
    ping: (timeoutMs = 2000) => pingWithin(connection, timeoutMs),
    async close() {
      await connection.close();
      await embedded?.stop();
    },
  };
}
