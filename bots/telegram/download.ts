import type { Api } from "grammy";
import type { AttachmentReader } from "../../src/domain/plans/plan-upload-feature.js";

/** Past this, a file is not one the bot reads (plans are kilobytes; the bot refuses over 5 MB). */
const MAX_BYTES = 20 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

/**
 * Fetches a file someone sent: getFile gives its path, and the bytes are at
 * `<api root>/file/bot<token>/<file_path>` (valid for at least an hour; bots read files up to 20 MB).
 * Source: https://core.telegram.org/bots/api#getfile
 * @example app.attachmentReaders.set("telegram", telegramFileReader(api, token));
 */
export function telegramFileReader(
  api: Api,
  token: string,
  apiRoot = "https://api.telegram.org",
): AttachmentReader {
  return async (ref) => {
    const file = await api.getFile(ref);
    if (!file.file_path) throw new Error("telegram: getFile gave no file_path");
    const response = await fetch(`${apiRoot.replace(/\/+$/, "")}/file/bot${token}/${file.file_path}`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`telegram: file download answered ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length > MAX_BYTES) throw new Error("telegram: file larger than a bot may download");
    return bytes;
  };
}
