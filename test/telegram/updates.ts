import type { Message, MessageEntity, Update, User } from "grammy/types";
import type { DeliveredMessage } from "./fake-bot-api.js";

/** A person as Telegram describes them; ids double as private chat ids, as on Telegram. */
export function user(id: string, name = "Lan"): User {
  return { id: Number(id), is_bot: false, first_name: name, language_code: "vi" };
}

/** The bot_command entity Telegram puts over a leading "/command" (UTF-16 offsets). */
function commandEntities(text: string): MessageEntity[] {
  const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
  return command ? [{ type: "bot_command", offset: 0, length: command[0].length }] : [];
}

/** Builds updates shaped like the Bot API's, with increasing update_ids and message ids. */
export class UpdateFactory {
  private updateId = 700_000;
  private messageId = 1;

  private next(): { update_id: number; message_id: number; date: number } {
    this.updateId += 1;
    this.messageId += 1;
    return { update_id: this.updateId, message_id: this.messageId, date: 1_759_716_000 };
  }

  /** A private text message, optionally a reply to a message the bot sent. */
  text(userId: string, text: string, options: { replyTo?: Message } = {}): Update {
    const { update_id, message_id, date } = this.next();
    const entities = commandEntities(text);
    return {
      update_id,
      message: {
        message_id,
        date,
        from: user(userId),
        chat: { id: Number(userId), type: "private", first_name: "Lan" },
        text,
        ...(entities.length > 0 ? { entities } : {}),
        ...(options.replyTo ? { reply_to_message: { ...options.replyTo, reply_to_message: undefined } } : {}),
      },
    } as Update;
  }

  /** A message in a supergroup, optionally replying to a message or posted in a forum topic. */
  group(
    userId: string,
    chatId: string,
    text: string,
    options: { replyTo?: Message; topic?: { id: number; createdBy: User } } = {},
  ): Update {
    const { update_id, message_id, date } = this.next();
    const chat = { id: Number(chatId), type: "supergroup" as const, title: "Phòng Quản lý Khoa học" };
    const entities = commandEntities(text);
    // In a forum topic Telegram sets reply_to_message to the topic's service message.
    const topicRoot = options.topic
      ? {
          message_id: options.topic.id,
          message_thread_id: options.topic.id,
          date,
          chat: { ...chat, is_forum: true },
          from: options.topic.createdBy,
          is_topic_message: true,
          forum_topic_created: { name: "Nhắc hạn", icon_color: 7322096 },
        }
      : undefined;
    const replyTo = options.replyTo ? { ...options.replyTo, reply_to_message: undefined } : topicRoot;
    return {
      update_id,
      message: {
        message_id,
        date,
        from: user(userId, "Hùng"),
        chat: options.topic ? { ...chat, is_forum: true } : chat,
        text,
        ...(entities.length > 0 ? { entities } : {}),
        ...(options.topic ? { is_topic_message: true, message_thread_id: options.topic.id } : {}),
        ...(options.replyTo && !options.topic ? { message_thread_id: options.replyTo.message_id } : {}),
        ...(replyTo ? { reply_to_message: replyTo } : {}),
      },
    } as Update;
  }

  /** A private location: something the bot cannot read. */
  location(userId: string): Update {
    const { update_id, message_id, date } = this.next();
    return {
      update_id,
      message: {
        message_id,
        date,
        from: user(userId),
        chat: { id: Number(userId), type: "private", first_name: "Lan" },
        location: { latitude: 21.0285, longitude: 105.8542 },
      },
    } as Update;
  }

  /** A private document of `size` bytes. */
  document(userId: string, size: number): Update {
    const { update_id, message_id, date } = this.next();
    return {
      update_id,
      message: {
        message_id,
        date,
        from: user(userId),
        chat: { id: Number(userId), type: "private", first_name: "Lan" },
        document: {
          file_id: `doc-${message_id}`,
          file_unique_id: "d",
          file_name: "ho-so.zip",
          file_size: size,
        },
      },
    } as Update;
  }

  /** A private photo with a caption: three sizes, smallest first, as Telegram sends them. */
  photo(userId: string, caption: string): Update {
    const { update_id, message_id, date } = this.next();
    return {
      update_id,
      message: {
        message_id,
        date,
        from: user(userId),
        chat: { id: Number(userId), type: "private", first_name: "Lan" },
        caption,
        photo: [
          { file_id: `photo-${message_id}-s`, file_unique_id: "a", width: 90, height: 67, file_size: 1_200 },
          {
            file_id: `photo-${message_id}-m`,
            file_unique_id: "b",
            width: 320,
            height: 240,
            file_size: 18_000,
          },
          {
            file_id: `photo-${message_id}-l`,
            file_unique_id: "c",
            width: 1280,
            height: 960,
            file_size: 160_000,
          },
        ],
      },
    } as Update;
  }

  /** The person presses button `index` of a message as Telegram shows it now. */
  press(userId: string, delivered: DeliveredMessage, index: number): Update {
    const { update_id } = this.next();
    const button = delivered.message.reply_markup?.inline_keyboard[index]?.[0] ??
      delivered.sentMarkup?.inline_keyboard[index]?.[0] ?? { text: "", callback_data: "" };
    return {
      update_id,
      callback_query: {
        id: `cb-${update_id}`,
        from: user(userId),
        message: delivered.message,
        chat_instance: `ci-${userId}`,
        data: "callback_data" in button ? button.callback_data : "",
      },
    } as Update;
  }
}
