import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Clock } from "../../clock.js";
import { SendError, type ChannelSender, type Delivery } from "../../engine/channel.js";
import type { OutboundFile } from "../../engine/message.js";
import type { FileStore } from "./files.js";

/**
 * Local copies of stored files while a channel uploads them. The path of a file is the same for
 * every attempt in this process (a sender that remembers partly sent deliveries keys them by
 * their refs), and the copy is removed when the last send that holds it ends.
 */
class LocalCopies {
  private dir: Promise<string> | undefined;
  private readonly held = new Map<string, { users: number; ready: Promise<string> }>();

  constructor(
    private readonly files: FileStore,
    private readonly clock: Clock,
  ) {}

  async take(name: string): Promise<string> {
    const entry = this.held.get(name);
    if (entry) {
      entry.users += 1;
      return entry.ready;
    }
    const ready = this.copy(name);
    this.held.set(name, { users: 1, ready });
    return ready;
  }

  async release(name: string): Promise<void> {
    const entry = this.held.get(name);
    if (!entry || --entry.users > 0) return;
    this.held.delete(name);
    const file = await entry.ready.catch(() => undefined);
    if (file) await rm(file, { force: true });
  }

  private async copy(name: string): Promise<string> {
    const bytes = await this.files.read(name, this.clock.now());
    // Expired or removed: sending again will not bring it back, so the outbox should not retry.
    if (!bytes) throw new SendError("bad_request", `report file gone: ${name}`);
    this.dir ??= mkdtemp(path.join(os.tmpdir(), "dvbot-uploads-"));
    const file = path.join(await this.dir, name);
    await writeFile(file, bytes);
    return file;
  }
}

/**
 * Wraps a channel's sender so a file that names a stored report (`report-file:<name>`) reaches it
 * as a path on this server, as senders that upload (Telegram's) expect: the bytes come from
 * GridFS, so the instance that sends need not be the one that made the file, and the local copy
 * lives only for the send. Other refs (platform file ids, URLs, paths) pass through untouched.
 * @example app.addChannel(sender) // App wraps every channel's sender this way
 */
export function withStoredFiles(sender: ChannelSender, files: FileStore, clock: Clock): ChannelSender {
  const copies = new LocalCopies(files, clock);
  const send = async (delivery: Delivery): Promise<{ messageIds: string[] }> => {
    const names = delivery.files.map((file) => files.nameOf(file.ref));
    if (names.every((name) => name === undefined)) return sender.send(delivery);
    const taken: string[] = [];
    try {
      const resolved: OutboundFile[] = [];
      for (const [i, file] of delivery.files.entries()) {
        const name = names[i];
        if (name === undefined) {
          resolved.push(file);
          continue;
        }
        taken.push(name);
        resolved.push({ ...file, ref: await copies.take(name) });
      }
      return await sender.send({ ...delivery, files: resolved });
    } finally {
      await Promise.all(taken.map((name) => copies.release(name)));
    }
  };
  // A proxy rather than a new object: whatever else a channel's sender offers stays reachable.
  return new Proxy(sender, {
    get(target, key) {
      if (key === "send") return send;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
