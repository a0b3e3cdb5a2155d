import type { Clock } from "../../clock.js";
import type { Engine } from "../../engine/engine.js";
import type { ChannelName } from "../../engine/message.js";
import type { Logger } from "../../log.js";
import type { Sealer } from "../../privacy/sealer.js";
import { t } from "../../text/vi.js";
import type { FileStore } from "../reports/files.js";
import { MAX_XLSX_BYTES } from "./xlsx-cells.js";

/**
 * The upload link for chats that cannot send the bot a document (Zalo's Bot Platform delivers no
 * files to bots). `/taikehoach` there answers with a signed link to a small page; the file chosen
 * on it is kept in GridFS and handed to the engine as a document the person sent in their chat,
 * so it is checked, previewed and confirmed there like a Telegram document.
 *
 * The link is a FileStore token (same secret, same expiry as report links) over a name that
 * carries the chat: `tai-len-<channel>-<hex of chat id>.xlsx`. No file has that name, so the
 * token opens no download, and no report file's token opens this page.
 *
 * An officials sheet carries people's names, so the file is kept sealed with the data key (a
 * dump of GridFS shows no name), and removed as soon as the bot has read it: what the preview
 * and «Nạp» need is then in the flow's sealed session.
 */

export const UPLOAD_PATH = "/tai-len";
const PREFIX = "tai-len-";

/** An uploaded file's bytes as kept in GridFS: sealed (see above). */
export function sealUpload(sealer: Sealer, bytes: Buffer): Buffer {
  return Buffer.from(sealer.seal(bytes.toString("base64")), "utf8");
}

/** The bytes sealUpload kept; a file stored before uploads were sealed (a zip) as it is. */
export function openUpload(sealer: Sealer, stored: Buffer): Buffer {
  const text = stored.toString("utf8");
  return sealer.isSealed(text) ? Buffer.from(sealer.open(text), "base64") : stored;
}

interface RequestLike {
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}
interface ResponseLike {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body?: Buffer | string): unknown;
}

/** The page address for the chat `chatId` of `channel`, or undefined without PUBLIC_URL. */
export function uploadLink(
  files: FileStore,
  channel: ChannelName,
  chatId: string,
  now: Date,
): string | undefined {
  const base = files.publicUrl?.replace(/\/+$/, "");
  if (!base) return undefined;
  const name = `${PREFIX}${channel}-${Buffer.from(chatId, "utf8").toString("hex")}.xlsx`;
  return `${base}${UPLOAD_PATH}?t=${files.sign(name, now)}`;
}

function chatOf(files: FileStore, url: string | undefined, now: Date) {
  const token = new URL(url ?? "/", "http://localhost").searchParams.get("t") ?? "";
  const name = files.verify(token, now);
  const match = name ? /^tai-len-(telegram|zalo|console)-([0-9a-f]{2,100})\.xlsx$/.exec(name) : null;
  if (!match) return undefined;
  return {
    channel: match[1] as ChannelName,
    chatId: Buffer.from(match[2] ?? "", "hex").toString("utf8"),
    token,
  };
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

function page(res: ResponseLike, status: number, body: string, token?: string): void {
  const X = t.plansExcel.uploadPage;
  const form = token
    ? `<form method="post" enctype="multipart/form-data" action="${UPLOAD_PATH}?t=${escapeHtml(token)}">` +
      `<p><input type="file" name="tep" accept=".xlsx" required></p><p><button>${escapeHtml(X.send)}</button></p></form>`
    : "";
  const html =
    `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${escapeHtml(X.title)}</title></head><body style="font-family:sans-serif;max-width:36em;margin:2em auto">` +
    `<h1 style="font-size:1.3em">${escapeHtml(X.title)}</h1><p>${escapeHtml(body)}</p>${form}</body></html>`;
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(html),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(html);
}

/**
 * `GET /tai-len?t=…` shows the form; `POST` takes the file (multipart field `tep`; the HTTP
 * server caps bodies at 1 MB, plenty for a plan of a few hundred rows) and hands it to the engine.
 * @example const upload = uploadRoute(app.reports.files, app.engine, clock, log, app.sealer);
 *          http.route("GET", UPLOAD_PATH, upload);
 *          http.route("POST", UPLOAD_PATH, upload);
 */
export function uploadRoute(
  files: FileStore,
  engine: Pick<Engine, "handle">,
  clock: Clock,
  log: Logger,
  sealer: Sealer,
) {
  const X = t.plansExcel.uploadPage;
  return async (
    req: RequestLike & { method?: string | undefined },
    res: ResponseLike,
    body: Buffer,
  ): Promise<void> => {
    const now = clock.now();
    const chat = chatOf(files, req.url, now);
    if (!chat) {
      page(res, 403, X.invalid);
      return;
    }
    if (req.method !== "POST") {
      page(res, 200, X.intro, chat.token);
      return;
    }
    const type = String(req.headers["content-type"] ?? "");
    let file: File | undefined;
    try {
      const form = await new Request("http://localhost/", {
        method: "POST",
        headers: { "content-type": type },
        body,
      }).formData();
      const entry = form.get("tep");
      file = entry instanceof File ? entry : undefined;
    } catch (error) {
      log.warn({ err: error }, "plans: an upload could not be read as a form");
    }
    if (!file || file.size === 0) {
      page(res, 400, X.noFile, chat.token);
      return;
    }
    if (file.size > MAX_XLSX_BYTES) {
      page(res, 413, t.plansExcel.tooBig(5), chat.token);
      return;
    }
    const bytes = Buffer.from(await file.arrayBuffer());
    const stored = await files.save("tep-tai-len", "xlsx", now, sealUpload(sealer, bytes));
    // As if sent in the chat: the chat's person, checked and previewed there. The stored name is
    // unique, so a form sent twice is two files, and a redelivery of this one is not.
    await engine.handle({
      channel: chat.channel,
      chatId: chat.chatId,
      chatType: "private",
      senderId: chat.chatId,
      messageId: `upload:${stored.name}`,
      text: "",
      attachments: [{ kind: "document", ref: stored.ref, name: file.name || "tep.xlsx", size: file.size }],
      dedupeKey: `upload:${stored.name}`,
      receivedAt: now,
    });
    page(res, 200, X.received);
  };
}
