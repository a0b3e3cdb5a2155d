import type { Role } from "../domain/people/roles.js";
import type { ChannelName } from "./message.js";
import type { Turn } from "./turn.js";

/** What every command has: who may use it and how /help describes it. */
interface CommandInfo {
  name: string;
  aliases?: readonly string[];
  roles: readonly Role[];
  /** One Vietnamese line for /help and the platform's command menu. */
  description: string;
  /** e.g. "/tracuu <mã phản ánh>" */
  usage?: string;
  /** Only on these channels (the console's development commands). */
  channels?: readonly ChannelName[];
}

/**
 * One slash command: who may use it, how /help describes it, and what it does. A command that
 * does nothing but open a flow names it (`opens`) instead of running code: the engine then knows
 * the flow's first state is all it does, which lets a Telegram update of it be handled without a
 * record, as a step of a flow is (Engine.handle, `platformRetries`).
 */
export type Command = CommandInfo &
  ({ opens: string; run?: never } | { opens?: never; run(turn: Turn, args: string): void | Promise<void> });

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
