import type { ChannelName } from "../../engine/message.js";

/**
 * What each channel can deliver besides text, so that reports choose between a file, a link
 * and a polite sentence. Data, not branches: a new channel adds a line here.
 */
export interface ChannelCapabilities {
  /**
   * "file": a picture on this server is uploaded; "url": the platform fetches the picture from a
   * public address (ours, signed); "none": no pictures.
   */
  photos: "file" | "url" | "none";
  /** Whether documents (.xlsx, .docx) can be sent in the chat. */
  documents: boolean;
}

export const CAPABILITIES: Record<ChannelName, ChannelCapabilities> = {
  // sendPhoto and sendDocument take an upload (bots/telegram/sender.ts).
  telegram: { photos: "file", documents: true },
  // The Zalo Bot Platform sends pictures by URL only and has no document method; the OA path
  // sends no files at all yet (bots/zalo/sender.ts), where a link in the text still works.
  zalo: { photos: "url", documents: false },
  // The terminal shows a file's name (bots/console/render.ts).
  console: { photos: "file", documents: true },
};
