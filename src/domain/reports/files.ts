import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Writable } from "node:stream";
import mongoose, { type Connection } from "mongoose";
import type { Logger } from "../../log.js";

type GridFSBucket = InstanceType<typeof mongoose.mongo.GridFSBucket>;
type FileId = InstanceType<typeof mongoose.mongo.ObjectId>;
const { GridFSBucket, ObjectId } = mongoose.mongo;

/** The path the download route is mounted on; the token travels in `?t=`. */
export const FILES_PATH = "/files";

/** How long a download link works: long enough to open it the next working morning. */
export const LINK_TTL_MS = 72 * 3_600_000;
/** Generated files are kept this long, then swept (links expire well before). */
export const KEEP_FILES_MS = 7 * 86_400_000;

/**
 * The GridFS bucket: collections `report_files.files` and `report_files.chunks`, in the bot's
 * own database, so every instance reads what any instance wrote and a database backup has them.
 */
export const BUCKET = "report_files";

/**
 * How an outbox file names a stored report: `report-file:<name>`. A channel that uploads files
 * gets a local copy for the length of the send (see uploads.ts), on whichever instance sends it.
 */
export const REF_PREFIX = "report-file:";

/**
 * Chunks whose file document never came (the upload was cut off: GridFS writes the file
 * document last) are removed once their upload is this old; no upload takes that long.
 */
const ORPHAN_AFTER_MS = 86_400_000;

/** Our own names only: lower-case ASCII, digits and dashes, one known extension. */
const NAME = /^[a-z0-9][a-z0-9-]{0,120}\.(xlsx|docx|png)$/;

const CONTENT_TYPES: Record<string, string> = {
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  png: "image/png",
};

export interface StoredFile {
  /** The file's name, also what the person sees. */
  name: string;
  /** What the outbox hands to a channel that uploads files: `report-file:<name>`. */
  ref: string;
  /** Bytes. */
  size: number;
}

/** The content of a new file: its bytes, or a writer that streams them (and ends the stream). */
export type FileContent = Buffer | ((out: Writable) => Promise<void>);

export type Download =
  { status: 200; name: string; contentType: string; bytes: Buffer } | { status: 403 } | { status: 404 };

export interface FileStoreOptions {
  /** The bot's database; the files live in its GridFS bucket `report_files`. */
  connection: Connection;
  /** FILE_LINK_SECRET; without it a random per-process secret is used (and said in the log). */
  secret?: string | undefined;
  /** PUBLIC_URL: links need it; without it there are no links. */
  publicUrl?: string | undefined;
  log: Logger;
  ttlMs?: number;
  /** How long a file is kept; default KEEP_FILES_MS. */
  keepMs?: number;
}

/** The metadata each stored file carries: FerretDB has no TTL indexes, so expiry is a field. */
interface FileMetadata {
  expiresAt: Date;
}

/**
 * Generated reports in MongoDB GridFS, and the signed, expiring links to them.
 * A token is `base64url(name).expiry.base64url(HMAC-SHA256(secret, name + "\n" + expiry))`:
 * it names one file for a limited time, and cannot be changed to name another. The name is
 * looked up only after the signature holds, so a link without one reveals nothing.
 */
export class FileStore {
  private readonly secret: Buffer;
  private readonly randomSecret: boolean;
  private warned = false;
  private cachedBucket: GridFSBucket | undefined;

  constructor(private readonly options: FileStoreOptions) {
    this.randomSecret = !options.secret;
    this.secret = options.secret ? Buffer.from(options.secret, "utf8") : randomBytes(32);
  }

  get publicUrl(): string | undefined {
    return this.options.publicUrl;
  }

  /*
   * Made on first use: the connection's `db` exists only once it is open. The driver creates the
   * bucket's two indexes (files_id+n unique on chunks, filename+uploadDate on files) before the
   * first upload into an empty bucket; FerretDB v1.24 accepts both (checked by the tests here).
   */
  private get bucket(): GridFSBucket {
    if (!this.cachedBucket) {
      const db = this.options.connection.db;
      if (!db) throw new Error("reports: the database connection is not open");
      this.cachedBucket = new GridFSBucket(db, { bucketName: BUCKET });
    }
    return this.cachedBucket;
  }

  private collection(kind: "files" | "chunks") {
    const db = this.options.connection.db;
    if (!db) throw new Error("reports: the database connection is not open");
    return db.collection(`${BUCKET}.${kind}`);
  }

  /**
   * Stores a new file under a unique name such as `bao-cao-2025-q4-20251006-0900-3fa9c1.xlsx`,
   * kept until now + keepMs. A writer that fails leaves nothing behind.
   * @example const chart = await files.save("tien-do-2025-q4", "png", now, png);
   */
  async save(
    stem: string,
    ext: "xlsx" | "docx" | "png",
    now: Date,
    content: FileContent,
  ): Promise<StoredFile> {
    const stamp = now.toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
    const safeStem = stem
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "");
    const name = `${safeStem}-${stamp}-${randomBytes(4).toString("hex")}.${ext}`;
    const metadata: FileMetadata = {
      expiresAt: new Date(now.getTime() + (this.options.keepMs ?? KEEP_FILES_MS)),
    };
    // The id's time is the app clock's, so the orphan sweep ages cut-off uploads by the same clock.
    const id = new ObjectId(ObjectId.generate(Math.floor(now.getTime() / 1000)));
    const upload = this.bucket.openUploadStreamWithId(id, name, { metadata });
    const finished = new Promise<void>((resolve, reject) => {
      upload.once("finish", resolve);
      upload.once("error", reject);
    });
    const write = async () => {
      if (Buffer.isBuffer(content)) upload.end(content);
      else await content(upload);
    };
    try {
      await Promise.all([finished, write()]);
    } catch (error) {
      // Removes the chunks written so far; the file document is written only at the end.
      await upload.abort().catch(() => undefined);
      throw error;
    }
    return { name, ref: `${REF_PREFIX}${name}`, size: upload.gridFSFile?.length ?? upload.length };
  }

  /** The name an outbox file ref gives, if it names a stored report file. */
  nameOf(ref: string): string | undefined {
    if (!ref.startsWith(REF_PREFIX)) return undefined;
    const name = ref.slice(REF_PREFIX.length);
    return NAME.test(name) ? name : undefined;
  }

  /**
   * The bytes of a stored file, or undefined when there is none or it has expired (an expired
   * file is removed here, so a sweep that has not run yet cannot make it live longer).
   */
  async read(name: string, now: Date): Promise<Buffer | undefined> {
    if (!NAME.test(name)) return undefined;
    const [file] = await this.bucket.find({ filename: name }, { limit: 1 }).toArray();
    if (!file) return undefined;
    const expiresAt = (file.metadata as Partial<FileMetadata> | undefined)?.expiresAt;
    if (!(expiresAt instanceof Date) || expiresAt.getTime() <= now.getTime()) {
      await this.remove(file._id);
      return undefined;
    }
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of this.bucket.openDownloadStream(file._id)) chunks.push(chunk as Buffer);
    } catch (error) {
      // Swept by another instance while it was being read: gone, not broken.
      if (error instanceof mongoose.mongo.MongoGridFSChunkError) return undefined;
      throw error;
    }
    return Buffer.concat(chunks);
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
    // Even a correctly signed name must be one of our plain names: no "..", no "/".
    if (!NAME.test(name)) return undefined;
    return name;
  }

  /** What GET /files?t=… answers: the bytes, 403 for a bad or expired link, 404 once removed. */
  async download(token: string, now: Date): Promise<Download> {
    const name = this.verify(token, now);
    if (!name) return { status: 403 };
    const bytes = await this.read(name, now);
    if (!bytes) return { status: 404 };
    const ext = name.slice(name.lastIndexOf(".") + 1);
    return { status: 200, name, contentType: CONTENT_TYPES[ext] ?? "application/octet-stream", bytes };
  }

  /*
   * The file document goes first, so no reader finds a file whose chunks are going; a crash
   * between the two leaves orphan chunks, which the sweep removes.
   */
  private async remove(id: FileId): Promise<void> {
    await this.collection("files").deleteOne({ _id: id });
    await this.collection("chunks").deleteMany({ files_id: id });
  }

  /** Removes a stored file now (an upload once read: kept no longer than it is needed). */
  async delete(name: string): Promise<void> {
    if (!NAME.test(name)) return;
    for (const file of await this.bucket.find({ filename: name }).toArray()) await this.remove(file._id);
  }

  /**
   * Removes expired files, and the chunks of uploads cut off more than a day ago; returns how
   * many files were removed. Safe on several instances at once (deletes are idempotent).
   */
  async sweep(now: Date): Promise<number> {
    const expired = await this.collection("files")
      .find({ "metadata.expiresAt": { $lte: now } }, { projection: { _id: 1 } })
      .toArray();
    for (const file of expired) await this.remove(file._id as FileId);
    const cutoff = ObjectId.createFromTime(Math.floor((now.getTime() - ORPHAN_AFTER_MS) / 1000));
    const old: FileId[] = await this.collection("chunks").distinct("files_id", { files_id: { $lt: cutoff } });
    if (old.length > 0) {
      const live = await this.collection("files")
        .find({ _id: { $in: old } }, { projection: { _id: 1 } })
        .toArray();
      const alive = new Set(live.map((f) => String(f._id)));
      const orphans = old.filter((id) => !alive.has(String(id)));
      if (orphans.length > 0) await this.collection("chunks").deleteMany({ files_id: { $in: orphans } });
    }
    return expired.length;
  }
}
