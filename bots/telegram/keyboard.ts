import type { InlineKeyboardMarkup } from "grammy/types";
import type { Choice } from "../../src/engine/message.js";
import { list, record, str } from "./fields.js";

/** Telegram refuses a button whose callback_data is over 64 bytes (UTF-8). */
export const MAX_CALLBACK_BYTES = 64;

/**
 * Marks callback data that starts with a step token: `§12:value`. Buttons sent before tokens
 * existed carry the bare value (or a `~2` stand-in), and no choice value starts with `§`.
 */
const STEP_MARK = "\u00a7";
const STEP_DATA = /^\u00a7(\d{1,12}):([\s\S]*)$/;

/** The step token and the choice value a button's callback data carries (no step on old buttons). */
export function readCallbackData(data: string): { value: string; step?: number } {
  const match = STEP_DATA.exec(data);
  if (!match) return { value: data };
  return { value: match[2] ?? "", step: Number(match[1]) };
}

/**
 * The callback data of each choice, in order, behind the step token when there is one (the
 * chat's session sequence number the keyboard was sent at: a press counts only while the session
 * is still there, checked by the engine against the state the turn reads anyway). A value too
 * long for Telegram with its token cannot be carried by the button, so it gets a short stand-in
 * instead (`~2` for the second choice): the engine then finds no value equal to it and matches
 * the inbound text, which is the pressed button's label — the same path as a person typing the
 * label. Stand-ins never collide with a real value.
 */
export function callbackData(choices: readonly Choice[], step?: number): string[] {
  const values = new Set(choices.map((c) => c.value));
  const prefix = step !== undefined ? `${STEP_MARK}${step}:` : "";
  const room = MAX_CALLBACK_BYTES - Buffer.byteLength(prefix, "utf8");
  return choices.map((choice, index) => {
    if (choice.value && Buffer.byteLength(choice.value, "utf8") <= room) return prefix + choice.value;
    let token = `~${index + 1}`;
    while (values.has(token)) token = `~${token}`;
    return prefix + token;
  });
}

/**
 * Choices as an inline keyboard, one button per row: Vietnamese labels are long and a row of
 * two would cut them off on a phone.
 */
export function inlineKeyboard(choices: readonly Choice[], step?: number): InlineKeyboardMarkup {
  const data = callbackData(choices, step);
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
