import type { Role } from "../domain/people/roles.js";
import type { ChannelName } from "./message.js";
import type { Turn } from "./turn.js";

/** One slash command: who may use it, how /help describes it, and what it does. */
export interface Command {
  name: string;
  aliases?: readonly string[];
  roles: readonly Role[];
  /** One Vietnamese line for /help and the platform's command menu. */
  description: string;
  /** e.g. "/tracuu <mã phản ánh>" */
  usage?: string;
  /** Only on these channels (the console's development commands). */
  channels?: readonly ChannelName[];
  run(turn: Turn, args: string): void | Promise<void>;
}

export class CommandRegistry {
  private readonly byName = new Map<string, Command>();
  private readonly ordered: Command[] = [];

  add(command: Command): void {
    for (const name of [command.name, ...(command.aliases ?? [])]) {
      if (this.byName.has(name)) throw new Error(`command /${name} registered twice`);
      this.byName.set(name, command);
    }
    this.ordered.push(command);
  }

  find(name: string): Command | undefined {
    return this.byName.get(name);
  }

  /** The commands `role` may use on `channel`, in registration order. */
  allowed(role: Role, channel: ChannelName): Command[] {
    return this.ordered.filter(
      (c) => c.roles.includes(role) && (!c.channels || c.channels.includes(channel)),
    );
  }

  all(): readonly Command[] {
    return this.ordered;
  }
}
