import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../../log.js";

/** The path the download route is mounted on; the token travels in `?t=`. */
export const FILES_PATH = "/files";

/** How long a download link works: long enough to open it the next working morning. */
export const LINK_TTL_MS = 72 * 3_600_000;
/** Generated files are kept this long, then swept (links expire well before). */
export const KEEP_FILES_MS = 7 * 86_400_000;

/** Our own names only: lower-case ASCII, digits and dashes, one known extension. */
const NAME = /^[a-z0-9][a-z0-9-]{0,120}\.(xlsx|docx|png)$/;

const CONTENT_TYPES: Record<string, string> = {
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  png: "image/png",
};

export interface StoredFile {
  /** Absolute path on this server: what the outbox hands to a channel that uploads files. */
  path: string;
  /** The file's name, also what the person sees. */
  name: string;
}

export type Download =
  | { status: 200; path: string; name: string; contentType: string; bytes: Buffer }
  | { status: 403 }
  | { status: 404 };

export interface FileStoreOptions {
  dir: string;
  /** FILE_LINK_SECRET; without it a random per-process secret is used (and said in the log). */
  secret?: string;
  /** PUBLIC_URL: links need it; without it there are no links. */
  publicUrl?: string;
  log: Logger;
  ttlMs?: number;
}

/**
 * The folder generated reports are written to, and the signed, expiring links to them.
 * A token is `base64url(name).expiry.base64url(HMAC-SHA256(secret, name + "\n" + expiry))`:
 * it names one file for a limited time, and cannot be changed to name another.
 */
export class FileStore {
  readonly dir: string;
  private readonly secret: Buffer;
  private readonly randomSecret: boolean;
  private warned = false;

  constructor(private readonly options: FileStoreOptions) {
    this.dir = path.resolve(options.dir);
    this.randomSecret = !options.secret;
    this.secret = options.secret ? Buffer.from(options.secret, "utf8") : randomBytes(32);
  }

  get publicUrl(): string | undefined {
    return this.options.publicUrl;
  }

  /** A new unique name such as `bao-cao-2025-q4-20251006-0900-3fa9c1.xlsx` and its path. */
  async newFile(stem: string, ext: "xlsx" | "docx" | "png", now: Date): Promise<StoredFile> {
    await mkdir(this.dir, { recursive: true });
    const stamp = now.toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
    const safeStem = stem
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "");
    const name = `${safeStem}-${stamp}-${randomBytes(4).toString("hex")}.${ext}`;
    return { name, path: path.join(this.dir, name) };
  }

  private signature(name: string, expiry: number): Buffer {
    return createHmac("sha256", this.secret).update(`${name}\n${expiry}`).digest();
  }

  /** A token for `name`, valid until now + ttl. */
  sign(name: string, now: Date): string {
    if (this.randomSecret && !this.warned) {
      this.warned = true;
      this.options.log.warn(
        "reports: FILE_LINK_SECRET is not set; download links are signed with a random secret of this " +
          "process and stop working when it restarts or on another instance",
      );
    }
    const expiry = Math.floor((now.getTime() + (this.options.ttlMs ?? LINK_TTL_MS)) / 1000);
    return [
      Buffer.from(name, "utf8").toString("base64url"),
      String(expiry),
      this.signature(name, expiry).toString("base64url"),
    ].join(".");
  }

  /** The public download address of a stored file, or undefined without PUBLIC_URL. */
  link(file: StoredFile, now: Date): string | undefined {
    const base = this.options.publicUrl?.replace(/\/+$/, "");
    return base ? `${base}${FILES_PATH}?t=${this.sign(file.name, now)}` : undefined;
  }

  /** The file a token names, if the token is genuine, unexpired and names one of our files. */
  verify(token: string, now: Date): string | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const [encoded = "", expiryText = "", given = ""] = parts;
    if (!/^\d{1,12}$/.test(expiryText)) return undefined;
    const name = Buffer.from(encoded, "base64url").toString("utf8");
    const expiry = Number(expiryText);
    const expected = this.signature(name, expiry);
    const actual = Buffer.from(given, "base64url");
    // Constant time, so the signature cannot be guessed byte by byte from response times.
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
    if (expiry * 1000 <= now.getTime()) return undefined;
    // Even a correctly signed name must be a plain name in our folder: no "..", no "/".
    if (!NAME.test(name) || path.basename(name) !== name) return undefined;
    return name;
  }

  /** What GET /files?t=… answers: the bytes, 403 for a bad or expired link, 404 once swept. */
  async download(token: string, now: Date): Promise<Download> {
    const name = this.verify(token, now);
    if (!name) return { status: 403 };
    const file = path.join(this.dir, name);
    if (path.dirname(file) !== this.dir) return { status: 403 };
    try {
      const bytes = await readFile(file);
      const ext = name.slice(name.lastIndexOf(".") + 1);
      return {
        status: 200,
        path: file,
        name,
        contentType: CONTENT_TYPES[ext] ?? "application/octet-stream",
        bytes,
      };
    } catch {
      return { status: 404 };
    }
  }

  /** Removes generated files older than `KEEP_FILES_MS`; returns how many. */
  async sweep(now: Date, keepMs = KEEP_FILES_MS): Promise<number> {
    let removed = 0;
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    for (const name of names.filter((n) => NAME.test(n))) {
      const file = path.join(this.dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && now.getTime() - info.mtimeMs > keepMs) {
        await rm(file, { force: true });
        removed += 1;
      }
    }
    return removed;
  }
}
