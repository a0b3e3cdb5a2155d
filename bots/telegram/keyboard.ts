import type { InlineKeyboardMarkup } from "grammy/types";
import type { Choice } from "../../src/engine/message.js";
import { list, record, str } from "./fields.js";

/** Telegram refuses a button whose callback_data is over 64 bytes (UTF-8). */
export const MAX_CALLBACK_BYTES = 64;

/**
 * The callback data of each choice, in order. A value too long for Telegram cannot be carried by
 * the button, so it gets a short stand-in token instead (`~2` for the second choice): the engine
 * then finds no value equal to it and matches the inbound text, which is the pressed button's
 * label — the same path as a person typing the label. Stand-ins never collide with a real value.
 */
export function callbackData(choices: readonly Choice[]): string[] {
  const values = new Set(choices.map((c) => c.value));
  return choices.map((choice, index) => {
    if (choice.value && Buffer.byteLength(choice.value, "utf8") <= MAX_CALLBACK_BYTES) return choice.value;
    let token = `~${index + 1}`;
    while (values.has(token)) token = `~${token}`;
    return token;
  });
}

/**
 * Choices as an inline keyboard, one button per row: Vietnamese labels are long and a row of
 * two would cut them off on a phone.
 */
export function inlineKeyboard(choices: readonly Choice[]): InlineKeyboardMarkup {
  const data = callbackData(choices);
  return {
    inline_keyboard: choices.map((choice, index) => [
      { text: choice.label, callback_data: data[index] ?? "" },
    ]),
  };
}

/**
 * The label of the button carrying `data` on a message, if it is still there. The markup comes
 * from an incoming update, so it is read as untrusted JSON.
 */
export function labelOf(markup: unknown, data: string): string | undefined {
  for (const row of list(record(markup)?.inline_keyboard)) {
    for (const button of list(row)) {
      const fields = record(button);
      const text = str(fields?.text);
      if (text !== undefined && fields?.callback_data === data) return text;
    }
  }
  return undefined;
}
