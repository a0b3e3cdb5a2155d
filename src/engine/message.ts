import type { ChannelName } from "../config.js";

export type { ChannelName };

/** A file or picture someone sent; platforms keep the bytes, we keep their reference. */
export interface Attachment {
  kind: "photo" | "document" | "sticker" | "other";
  /** The platform's handle: a Telegram file_id, a Zalo photo URL, a console path. */
  ref: string;
  name?: string;
  mimeType?: string;
  size?: number;
}

/** What a message is about, so that a later reply to it lands on the right record. */
export interface Subject {
  kind: "task" | "ticket" | "model" | "broadcast";
  id: string;
}

/**
 * One incoming message in the same shape on every channel. Adapters build it; the engine never
 * sees a platform update.
 */
export interface Inbound {
  channel: ChannelName;
  /** The conversation: a private chat is the person, a group is the group. */
  chatId: string;
  chatType: "private" | "group";
  /** The platform's id of the person who wrote. */
  senderId: string;
  senderName?: string;
  /** The platform's id of this message (unique within the chat). */
  messageId: string;
  text: string;
  attachments: Attachment[];
  /** The platform message id this one replies to, when the platform says so. */
  replyToMessageId?: string;
  /** A pressed button's value (Telegram callback data); the engine treats it as the answer. */
  choice?: string;
  /**
   * The step token the pressed button carried: the chat's session sequence number its keyboard
   * was sent at. A press counts only while the session is still there; absent on buttons sent
   * before tokens existed (the adapter then checks them its old way).
   */
  step?: number;
  /** Unique per update across redeliveries, e.g. `telegram:<update_id>`. */
  dedupeKey: string;
  /**
   * The update's place in the platform's own order of this bot's updates (Telegram's update_id,
   * which grows by one per update), absent where the platform gives none we rely on. With it a
   * turn in a flow may start from the state this process remembers (Sessions.recall), because
   * recovery can then tell a chat that moved on before the update came from one that moved on after.
   */
  order?: number;
  receivedAt: Date;
}

export interface Choice {
  /** What the person reads on the button or numbered line. */
  label: string;
  /** What comes back when it is pressed; short, because Telegram allows 64 bytes. */
  value: string;
}

export interface OutboundFile {
  kind: "photo" | "document";
  /** A path on this server or a platform file reference. */
  ref: string;
  name?: string;
}

export interface Recipient {
  channel: ChannelName;
  chatId: string;
  personId?: string;
}

/** One message the bot decided to send; it waits in the outbox until a channel delivers it. */
export interface Outbound {
  to: Recipient;
  text: string;
  choices?: Choice[];
  /** For choices answering the speaker: the session sequence number their press must find (Inbound.step). */
  step?: number;
  files?: OutboundFile[];
  subject?: Subject;
  /** Unique: the same decision taken twice writes one message. */
  dedupeKey: string;
  /** Not before this time (quiet hours, scheduled notices). */
  notBefore?: Date;
}
