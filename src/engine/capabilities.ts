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
  photos: boolean;
  documents: boolean;
  /** Longest text message, in UTF-16 code units. */
  maxText: number;
}

export const CAPABILITIES: Record<ChannelName, ChannelCapabilities> = {
  telegram: { replyTo: true, buttons: true, photos: true, documents: true, maxText: 4096 },
  // Zalo Bot Platform: sendMessage and sendPhoto, no reply-to metadata, no buttons, 2000 characters.
  zalo: { replyTo: false, buttons: false, photos: true, documents: false, maxText: 2000 },
  console: {
    replyTo: true,
    buttons: false,
    photos: true,
    documents: true,
    maxText: Number.POSITIVE_INFINITY,
  },
};
