import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

/** One data key: 32 random bytes with a short id that sealed values carry. */
export interface DataKey {
  id: string;
  key: Buffer;
}

const VERSION = "s1";
const SEALED = /^s1\.[A-Za-z0-9_-]{1,16}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/;

/**
 * Seals citizens' personal data at rest (AES-256-GCM). The first key seals; every key opens, so
 * a key can be rotated: put the new key first, run `npm run keys:rotate` to reseal everything,
 * then drop the old key (README, "Personal data").
 *
 * Sealed form: `s1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export class Sealer {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: DataKey[]) {
    if (keys.length === 0) throw new Error("Sealer needs at least one key");
    for (const k of keys) if (k.key.length !== 32) throw new Error(`data key ${k.id} is not 32 bytes`);
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get currentKeyId(): string {
    return this.keys[0]?.id ?? "";
  }

  seal(plaintext: string): string {
    const current = this.keys[0] as DataKey;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", current.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [
      VERSION,
      current.id,
      iv.toString("base64url"),
      cipher.getAuthTag().toString("base64url"),
      body.toString("base64url"),
    ].join(".");
  }

  /** @throws when the value was tampered with or sealed with a key that is no longer configured. */
  open(sealed: string): string {
    const [version, keyId, iv, tag, body] = sealed.split(".");
    const key = keyId ? this.byId.get(keyId) : undefined;
    if (version !== VERSION || !key || !iv || !tag || body === undefined)
      throw new Error("cannot open sealed value");
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  }

  /** The key a sealed value was sealed with. */
  keyIdOf(sealed: string): string | undefined {
    return sealed.split(".")[1];
  }

  /**
   * Whether a stored value is in the sealed form. Values stored before a field was sealed are
   * plain text; this tells them apart (a 12-byte iv and a 16-byte tag, in base64url, cannot be
   * typed by accident), so such a field reads both until `keys:rotate` has sealed the old ones.
   */
  isSealed(value: string): boolean {
    return SEALED.test(value);
  }

  /**
   * A stored value as it was written: opened when sealed, as it is when stored in the clear by an
   * earlier version. @throws like `open` when a sealed value cannot be opened.
   */
  read(stored: string): string {
    return this.isSealed(stored) ? this.open(stored) : stored;
  }

  /** A stored value sealed under the current key, or undefined when it already is (for keys:rotate). */
  resealed(stored: string): string | undefined {
    if (this.isSealed(stored) && this.keyIdOf(stored) === this.currentKeyId) return undefined;
    return this.seal(this.read(stored));
  }

  /** Whether a lookup hash was made with the current key (keys:rotate remakes the others). */
  isCurrentHash(hash: string): boolean {
    return hash.startsWith(`${this.currentKeyId}.`);
  }

  /**
   * A keyed hash for finding a record by a personal value (a phone number) without storing it in
   * the clear. Made with the current key; `lookupHashes` gives one per key, to find records not
   * yet resealed after a rotation.
   */
  lookupHash(value: string): string {
    return this.hashWith(this.keys[0] as DataKey, value);
  }

  lookupHashes(value: string): string[] {
    return this.keys.map((k) => this.hashWith(k, value));
  }

  private hashWith(k: DataKey, value: string): string {
    return `${k.id}.${createHmac("sha256", k.key).update(`lookup:${value}`).digest("base64url")}`;
  }
}

/**
 * Reads `id:base64key,id:base64key` (DATA_ENCRYPTION_KEYS).
 * @example parseDataKeys("k2026:" + randomBytes(32).toString("base64"))
 */
export function parseDataKeys(text: string): DataKey[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [id, encoded] = part.split(":");
      if (!id || !/^[A-Za-z0-9_-]{1,16}$/.test(id) || !encoded) throw new Error("malformed key");
      const key = Buffer.from(encoded, "base64");
      if (key.length !== 32) throw new Error("key is not 32 bytes");
      return { id, key };
    });
}
