import type { Api } from "grammy";
import type { BotCommand } from "grammy/types";
import type { App } from "../../src/app.js";
import type { Role } from "../../src/domain/people/roles.js";
import type { Inbound } from "../../src/engine/message.js";
import type { Logger } from "../../src/log.js";

/** Telegram's rules for a menu entry. Source: https://core.telegram.org/bots/api#botcommand */
const COMMAND_NAME = /^[a-z0-9_]{1,32}$/;
const MAX_DESCRIPTION = 256;
/** Roles of turns remembered for their menu refresh, at most. */
const MAX_REMEMBERED = 10_000;

/**
 * The "/" menu beside the message box, in Vietnamese, per role: the default scope lists what a
 * citizen may do; an official's private chat gets its own list (scope "chat").
 *
 * What was last set for each chat is remembered in memory. The first message of a chat after a
 * start syncs it once (for a citizen: clears any per-chat menu a former role left behind); after
 * that only a role change costs a call.
 */
export class CommandMenu {
  private readonly shown = new Map<string, Role>();
  /**
   * The speaker's role as the engine read it for an update's turn (and whether that turn filed
   * them), until its refresh takes it; absent when the turn wrote people or accounts (it may have
   * changed that role).
   */
  private readonly roleOfTurn = new Map<string, { role: Role; newcomer: boolean }>();

  constructor(
    private readonly api: Api,
    private readonly app: App,
    private readonly log: Logger,
  ) {
    // Who spoke was read by the turn already; reading it again here cost two database round trips
    // a step. Bounded: an update whose refresh never comes (its handling threw) is not kept for good.
    app.engine.onTurn((inbound, speaker, peopleChanged) => {
      if (inbound.channel !== "telegram" || inbound.chatType !== "private" || peopleChanged) return;
      if (this.roleOfTurn.size >= MAX_REMEMBERED) this.roleOfTurn.clear();
      this.roleOfTurn.set(inbound.dedupeKey, { role: speaker.role, newcomer: speaker.newcomer === true });
    });
  }

  commandsFor(role: Role): BotCommand[] {
    return this.app.engine.commands
      .allowed(role, "telegram")
      .filter((c) => COMMAND_NAME.test(c.name) && c.description.length > 0)
      .map((c) => ({ command: c.name, description: c.description.slice(0, MAX_DESCRIPTION) }));
  }

  /** The menu everyone sees unless their chat has its own. */
  async setDefault(): Promise<void> {
    await this.api.setMyCommands(this.commandsFor("citizen"));
  }

  /** Brings the menu of the sender's private chat in line with their role, if it changed. */
  async refresh(inbound: Inbound): Promise<void> {
    if (inbound.chatType !== "private") return;
    const seen = this.roleOfTurn.get(inbound.dedupeKey);
    this.roleOfTurn.delete(inbound.dedupeKey);
    // A turn that wrote people or accounts may have changed the speaker's own role (/start CODE
    // joins by invite, /lienket CODE joins another person): its role is not remembered, and is
    // read as it is now. Any other turn, a command or not, leaves it as the turn read it.
    const role = seen?.role ?? (await this.roleOf(inbound.senderId));
    const chatId = inbound.chatId;
    const before = this.shown.get(chatId);
    if (!role || before === role) return;
    this.shown.set(chatId, role);
    // A citizen whose first message this was never had a menu of their own to clear (accounts are
    // never deleted, so nobody before them had a role in this chat): a wave of newcomers after a
    // start no longer costs one deleteMyCommands each.
    if (seen?.newcomer && role === "citizen") return;
    const scope = { type: "chat" as const, chat_id: chatId };
    try {
      if (role === "citizen") await this.api.deleteMyCommands({ scope });
      else await this.api.setMyCommands(this.commandsFor(role), { scope });
    } catch (error) {
      if (before) this.shown.set(chatId, before);
      else this.shown.delete(chatId);
      this.log.warn({ err: error, chatId, role }, "telegram: could not set the command menu");
    }
  }

  private async roleOf(senderId: string): Promise<Role | undefined> {
    const { ChannelAccount, Person } = this.app.models;
    const account = await ChannelAccount.findOne({ channel: "telegram", externalId: senderId }).lean();
    if (!account) return undefined;
    const person = await Person.findById(account.personId).lean();
    return person?.role;
  }
}
