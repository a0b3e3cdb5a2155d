import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs on stderr, pretty-printed when stderr is a terminal.
 * Stderr, because stdout belongs to the console channel: `printf '/help\n' | npm start`
 * must print the bot's answer and nothing else.
 */
export function createLogger(level: string, options: { pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty) {
    return pino({
      level,
      transport: {
        target: "pino-pretty",
        options: { destination: 2, colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" },
      },
    });
  }
  return pino({ level }, pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything, for tests and CLIs that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
