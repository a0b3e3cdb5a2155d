import type { ChannelName } from "./message.js";

/**
 * What each platform can do, as data, so features ask "can this chat take a document?" instead
 * of naming a platform. Facts from ../shared/PLATFORMS.md.
 */
export interface ChannelCapabilities {
  /** The platform tells us which message a reply answers (Telegram's reply_to_message). */
  replyTo: boolean;
  /** Choices can be buttons; otherwise they are numbered lines. */
  buttons: boolean;
  /**
   * "file": a picture on this server is uploaded; "url": the platform fetches the picture from a
   * public address (ours, signed); "none": no pictures.
   */
  photos: "file" | "url" | "none";
  /** Documents (.xlsx, .docx) can be sent in the chat. */
  documents: boolean;
  /** Longest text message, in UTF-16 code units. */
  maxText: number;
}

export const CAPABILITIES: Record<ChannelName, ChannelCapabilities> = {
  // sendPhoto and sendDocument take an upload (bots/telegram/sender.ts).
  telegram: { replyTo: true, buttons: true, photos: "file", documents: true, maxText: 4096 },
  // Zalo Bot Platform: sendMessage and sendPhoto (by URL), no documents, no reply-to metadata, no
  // buttons, 2000 characters; the OA path sends no files yet, where a link in the text still works.
  zalo: { replyTo: false, buttons: false, photos: "url", documents: false, maxText: 2000 },
  // The terminal shows a file's name (bots/console/render.ts).
  console: {
    replyTo: true,
    buttons: false,
    photos: "file",
    documents: true,
    maxText: Number.POSITIVE_INFINITY,
  },
};
