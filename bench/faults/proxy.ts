import net from "node:net";

/**
 * A MongoDB wire-protocol proxy on 127.0.0.1 that passes every frame through untouched, except
 * the Nth write command after `arm`, where it plays one fault. It reads just enough of each frame
 * to know the command: a frame is int32 messageLength, requestID, responseTo, opCode (little
 * endian); an OP_MSG (2013) carries int32 flagBits and then sections, the kind-0 one a BSON
 * document whose first key names the command and whose value names the collection.
 */
export const DB_FAULTS = ["error", "cut-before", "cut-after", "kill-before", "kill-after"] as const;
export type DbFault = (typeof DB_FAULTS)[number];

const OP_MSG = 2013;
const HEADER = 16;
/** The commands that change data; reads, handshakes and index builds are passed through uncounted. */
const WRITES = new Set(["insert", "update", "delete", "findAndModify"]);
/** An error code no driver retries on (8000 is Atlas's generic one; no retryable label is sent). */
export const INJECTED_CODE = 8000;

export interface WriteSeen {
  /** 1-based, counted from `arm`. */
  n: number;
  /** Which listener (which process) it came through. */
  tag: string;
  command: string;
  collection: string;
}

/** Which write a plan hits: the `nth` (1-based) of this command on this collection, from any listener. */
export interface WriteKey {
  command: string;
  collection: string;
  nth: number;
}

interface Plan {
  at: number;
  fault: DbFault;
  /**
   * When given, the write is found by this instead of by `at`: with several processes their
   * background writes (lease takes, recovery) interleave differently from run to run, so the
   * Nth write overall is not the same write twice, while the Nth ticket insert is.
   */
  key?: WriteKey;
  /** For "error": the server's answer, instead of the injected fault's (a test's exact refusal). */
  reply?: { code: number; errmsg: string };
}

/** The first key of an OP_MSG's kind-0 document, and that key's value when it is a string. */
export function commandOf(frame: Buffer): { command: string; collection: string } | undefined {
  if (frame.length < HEADER + 5 || frame.readInt32LE(12) !== OP_MSG) return undefined;
  let at = HEADER + 4;
  while (at < frame.length) {
    const kind = frame.readUInt8(at);
    at += 1;
    const size = frame.readInt32LE(at);
    if (kind === 0) return firstElement(frame, at);
    // Kind 1: int32 size (counting itself), cstring identifier, documents.
    at += size;
  }
  return undefined;
}

function firstElement(buf: Buffer, docAt: number): { command: string; collection: string } | undefined {
  let at = docAt + 4;
  const type = buf.readUInt8(at);
  if (type === 0) return undefined;
  at += 1;
  const end = buf.indexOf(0, at);
  const command = buf.toString("utf8", at, end);
  at = end + 1;
  // Type 2 (string): int32 length including the trailing NUL, then the bytes.
  const collection = type === 2 ? buf.toString("utf8", at + 4, at + 4 + buf.readInt32LE(at) - 1) : "";
  return { command, collection };
}

/** A BSON document of strings, int32s and doubles: enough for an error reply. */
export function bsonDocument(fields: Record<string, string | number | { double: number }>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(fields)) {
    const name = Buffer.from(`${key}\0`, "utf8");
    if (typeof value === "string") {
      const text = Buffer.from(`${value}\0`, "utf8");
      const size = Buffer.alloc(4);
      size.writeInt32LE(text.length);
      parts.push(Buffer.from([0x02]), name, size, text);
    } else if (typeof value === "number") {
      const int = Buffer.alloc(4);
      int.writeInt32LE(value);
      parts.push(Buffer.from([0x10]), name, int);
    } else {
      const double = Buffer.alloc(8);
      double.writeDoubleLE(value.double);
      parts.push(Buffer.from([0x01]), name, double);
    }
  }
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeInt32LE(body.length + 5);
  return Buffer.concat([head, body, Buffer.from([0])]);
}

/** An OP_MSG reply to `requestId` whose body is the server refusing the command. */
export function errorReply(
  requestId: number,
  reply: { code: number; errmsg: string } = { code: INJECTED_CODE, errmsg: "injected fault" },
): Buffer {
  const doc = bsonDocument({
    ok: { double: 0 },
    errmsg: reply.errmsg,
    code: reply.code,
    codeName: "InjectedFault",
  });
  const head = Buffer.alloc(HEADER + 5);
  head.writeInt32LE(HEADER + 5 + doc.length, 0);
  head.writeInt32LE(0x7fff0000 + (requestId & 0xffff), 4);
  head.writeInt32LE(requestId, 8);
  head.writeInt32LE(OP_MSG, 12);
  head.writeInt32LE(0, 16);
  head.writeUInt8(0, 20);
  return Buffer.concat([head, doc]);
}

/** Splits a byte stream into whole frames, keeping a partial one for the next chunk. */
class Framer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    while (this.pending.length >= 4) {
      const size = this.pending.readInt32LE(0);
      if (this.pending.length < size) break;
      frames.push(this.pending.subarray(0, size));
      this.pending = this.pending.subarray(size);
    }
    return frames;
  }
}

/**
 * One proxy, several listeners: each process (the bot, a job run) gets a port of its own, tagged,
 * so a kill fault knows whose process to kill. Writes are counted across all of them.
 */
export class WireProxy {
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  /** Tags whose process is being killed: nothing of theirs passes until it is dead. */
  private readonly dying = new Set<string>();
  private readonly tags = new WeakMap<net.Socket, string>();
  private plan: Plan | undefined;
  private counting = false;
  private count = 0;
  /** Writes counted since `arm`, by "command collection". */
  private readonly byKey = new Map<string, number>();
  /** Every write counted since `arm`, in the order the proxy saw them. */
  readonly writes: WriteSeen[] = [];
  /** The write the fault was played on, once it has been. */
  faulted: WriteSeen | undefined;
  /** The answer an "error" fault gives (Plan.reply), else the injected fault's. */
  private faultReply: { code: number; errmsg: string } | undefined;
  /** Holds asked for, not yet taken by a command nor released, each for the next command that matches it. */
  private readonly holds: HoldEntry[] = [];

  constructor(
    private readonly target: { host: string; port: number },
    /** SIGKILLs the process behind a listener (kill faults); resolves once it is dead. */
    private readonly kill: (tag: string) => Promise<void> = async () => undefined,
  ) {}

  /** A new listener for the process named `tag`; its port. */
  async listen(tag: string): Promise<number> {
    const server = net.createServer((client) => this.connect(tag, client));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.servers.push(server);
    return (server.address() as net.AddressInfo).port;
  }

  /** Counts writes from now on (from 1) and plays `fault` on write number `at`; no plan: count only. */
  arm(plan?: Plan): void {
    this.plan = plan;
    this.counting = true;
    this.count = 0;
    this.byKey.clear();
    this.writes.length = 0;
    this.faulted = undefined;
  }

  /** Stops counting: the writes that follow (the check, the teardown) are passed through uncounted. */
  disarm(): void {
    this.counting = false;
    this.plan = undefined;
  }

  /**
   * Holds the next `command` on `collection` from any listener, reads included, armed or not,
   * until released: a delay the test places exactly, where the other faults place a failure.
   * Only that command's connection waits; the client's others go on.
   */
  hold(plan: HoldPlan): Held {
    let reach: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const entry: HoldEntry = { ...plan, reach, released: false };
    this.holds.push(entry);
    return {
      reached,
      release: () => {
        entry.released = true;
        entry.letGo?.();
        // Still waiting for its command (a taken one has left the list): it holds nothing later.
        const at = this.holds.indexOf(entry);
        if (at >= 0) this.holds.splice(at, 1);
      },
    };
  }

  /** The hold waiting for this frame's command, now taken by it. */
  private holdFor(frame: Buffer): HoldEntry | undefined {
    if (this.holds.length === 0) return undefined;
    const command = commandOf(frame);
    if (!command) return undefined;
    const at = this.holds.findIndex(
      (h) => h.command === command.command && h.collection === command.collection,
    );
    if (at < 0) return undefined;
    return this.holds.splice(at, 1)[0];
  }

  async close(): Promise<void> {
    for (const entry of this.holds.splice(0)) {
      entry.released = true;
      entry.letGo?.();
    }
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(
      this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }

  private connect(tag: string, client: net.Socket): void {
    const server = net.connect(this.target.port, this.target.host);
    this.sockets.add(client);
    this.sockets.add(server);
    this.tags.set(client, tag);
    this.tags.set(server, tag);
    const cut = () => {
      client.destroy();
      server.destroy();
    };
    client.on("close", () => {
      this.sockets.delete(client);
      server.destroy();
    });
    server.on("close", () => {
      this.sockets.delete(server);
      client.destroy();
    });
    client.on("error", cut);
    server.on("error", cut);
    /** Request ids whose reply is not to be passed on, and what to do instead. */
    const held = new Map<number, "cut-after" | "kill-after">();
    const upstream = new Framer();
    const downstream = new Framer();
    /**
     * Frames each way kept behind a held one (hold), in order, and whether one is held now: a
     * connection's frames pass in the order they came, the held one first once released.
     */
    const queued = { up: [] as Buffer[], down: [] as Buffer[] };
    const holding = { up: false, down: false };
    /** Request ids whose answer a hold keeps. */
    const answersHeld = new Map<number, HoldEntry>();
    const keep = (way: "up" | "down", frame: Buffer, entry: HoldEntry, pass: (frame: Buffer) => void) => {
      holding[way] = true;
      entry.letGo = () => {
        entry.letGo = undefined;
        holding[way] = false;
        if (client.destroyed || server.destroyed || this.dying.has(tag)) return;
        pass(frame);
        for (const later of queued[way].splice(0)) (way === "up" ? upstreamFrame : downstreamFrame)(later);
      };
      entry.reach();
      if (entry.released) entry.letGo();
    };
    const upstreamFrame = (frame: Buffer): void => {
      if (holding.up) {
        queued.up.push(frame);
        return;
      }
      const hold = this.holdFor(frame);
      // Counted (and faulted) as it goes on, as any other.
      if (hold?.at === "request") return keep("up", frame, hold, passUp);
      if (hold) answersHeld.set(frame.readInt32LE(4), hold);
      passUp(frame);
    };
    const downstreamFrame = (frame: Buffer): void => {
      if (holding.down) {
        queued.down.push(frame);
        return;
      }
      const hold = answersHeld.get(frame.readInt32LE(8));
      if (hold) {
        answersHeld.delete(frame.readInt32LE(8));
        return keep("down", frame, hold, passDown);
      }
      passDown(frame);
    };
    client.on("data", (chunk: Buffer) => {
      for (const frame of upstream.push(chunk)) {
        if (this.dying.has(tag) || client.destroyed) return;
        upstreamFrame(frame);
      }
    });
    const passUp = (frame: Buffer): void => {
      const fault = this.faultFor(tag, frame);
      const requestId = frame.readInt32LE(4);
      if (fault === undefined) server.write(frame);
      else if (fault === "error") client.write(errorReply(requestId, this.faultReply));
      else if (fault === "cut-before") cut();
      else if (fault === "kill-before") this.killProcess(tag);
      else {
        held.set(requestId, fault);
        server.write(frame);
      }
    };
    const passDown = (frame: Buffer): void => {
      const instead = held.get(frame.readInt32LE(8));
      if (instead === undefined) client.write(frame);
      else if (instead === "cut-after") cut();
      else this.killProcess(tag);
    };
    server.on("data", (chunk: Buffer) => {
      for (const frame of downstream.push(chunk)) {
        if (this.dying.has(tag) || client.destroyed) return;
        downstreamFrame(frame);
      }
    });
  }

  /**
   * Kills the process behind `tag`. Until it is dead nothing of its connections passes either
   * way, on any of them: a process being killed does not get to write on another connection.
   */
  private killProcess(tag: string): void {
    this.dying.add(tag);
    void this.kill(tag).finally(() => {
      for (const socket of this.sockets) if (this.tags.get(socket) === tag) socket.destroy();
      this.dying.delete(tag);
    });
  }

  /** Counts the frame if it is a write; the fault to play on it, if it is the planned one. */
  private faultFor(tag: string, frame: Buffer): DbFault | undefined {
    if (!this.counting) return undefined;
    const command = commandOf(frame);
    if (!command || !WRITES.has(command.command)) return undefined;
    this.count += 1;
    const seen: WriteSeen = { n: this.count, tag, ...command };
    this.writes.push(seen);
    const name = `${command.command} ${command.collection}`;
    const nth = (this.byKey.get(name) ?? 0) + 1;
    this.byKey.set(name, nth);
    const key = this.plan?.key;
    if (key ? `${key.command} ${key.collection}` !== name || key.nth !== nth : this.plan?.at !== this.count)
      return undefined;
    if (!this.plan || this.faulted) return undefined;
    this.faulted = seen;
    this.faultReply = this.plan.reply;
    return this.plan.fault;
  }
}

/** Which command a hold keeps, and where: its request before the database, or its answer after it. */
export interface HoldPlan {
  command: string;
  collection: string;
  /**
   * "request": the command does not reach the database until released (a write that lands late).
   * "reply": the database runs it at once, and its answer is kept from the client until released
   * (a read that comes back stale: what it tells is the state at the moment it ran).
   */
  at: "request" | "reply";
}

/** A hold on the next matching command (WireProxy.hold). */
export interface Held {
  /** Resolves once the command is held: at "reply", once the database has run it and answered. */
  readonly reached: Promise<void>;
  /** Lets the command (or its answer) go on; later frames of its connection, held behind it, follow. */
  release(): void;
}

interface HoldEntry extends HoldPlan {
  reach: () => void;
  /** Set once the command is held: lets it go. */
  letGo?: () => void;
  released: boolean;
}

/** Host and port of a single-host mongodb:// URI. */
export function hostOf(uri: string): { host: string; port: number } {
  const url = new URL(uri);
  return { host: url.hostname, port: Number(url.port || 27017) };
}

/**
 * The same URI pointed at a proxy listener. directConnection keeps the driver on that one
 * address: a replica set's member list would otherwise lead it around the proxy.
 */
export function throughProxy(uri: string, port: number): string {
  const url = new URL(uri);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  url.searchParams.set("directConnection", "true");
  return url.toString();
}
