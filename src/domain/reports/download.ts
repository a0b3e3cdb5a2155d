import type { Clock } from "../../clock.js";
import type { Logger } from "../../log.js";
import { t } from "../../text/vi.js";
import type { FileStore } from "./files.js";

/*
 * The shapes of Node's IncomingMessage and ServerResponse this route uses. Spelled out here
 * because src/domain may not import node:http (test/architecture.test.ts); HttpServer's route
 * handlers accept this function as it is.
 */
interface RequestLike {
  url?: string | undefined;
}
interface ResponseLike {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body?: Buffer | string): unknown;
}

function text(res: ResponseLike, status: number, body: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(body);
}

/**
 * `GET /files?t=<token>`: the file a signed link names, read from the database (so any instance
 * serves it), 403 for a tampered, expired or foreign link, 404 for a file expired or already
 * swept. Mounted on the app's HttpServer by main.ts.
 * @example http.route("GET", FILES_PATH, downloadRoute(app.reports.files, clock, log))
 */
export function downloadRoute(files: FileStore, clock: Clock, log: Logger) {
  return async (req: RequestLike, res: ResponseLike): Promise<void> => {
    const token = new URL(req.url ?? "/", "http://localhost").searchParams.get("t") ?? "";
    const result = await files.download(token, clock.now());
    if (result.status === 403) {
      log.warn("reports: download refused (bad or expired link)");
      text(res, 403, t.reports.linkInvalid);
      return;
    }
    if (result.status === 404) {
      text(res, 404, t.reports.linkGone);
      return;
    }
    // Pictures are shown where they are opened (Zalo fetches the chart); documents are saved.
    const disposition = result.contentType.startsWith("image/") ? "inline" : "attachment";
    res.writeHead(200, {
      "content-type": result.contentType,
      "content-length": result.bytes.length,
      "content-disposition": `${disposition}; filename="${result.name}"`,
      "cache-control": "private, no-store",
      "x-content-type-options": "nosniff",
    });
    res.end(result.bytes);
  };
}
