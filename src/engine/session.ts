import { Schema, type Model, type Types } from "mongoose";
import { resealField } from "../privacy/reseal.js";
import type { Sealer } from "../privacy/sealer.js";

/**
 * Where a person is inside a flow. One document per person per chat, written after each step,
 * so a restart resumes mid-flow. MongoDB TTL indexes are not portable to FerretDB, so expiry is
 * a field every read respects and a sweep deletes.
 */
export interface SessionDoc {
  _id: Types.ObjectId;
  key: string;
  flow: string;
  /** The flow's version when it started; a changed flow restarts politely instead of misreading old data. */
  version: number;
  step: string;
  /**
   * What the flow has collected so far, as JSON sealed with the data key: mid-/gopy it holds the
   * name, address and phone the person typed, until the flow ends or the session expires.
   */
  dataSealed: string;
  expiresAt: Date;
  updatedAt: Date;
}

export const sessionSchema = new Schema<SessionDoc>(
  {
    key: { type: String, required: true, unique: true },
    flow: { type: String, required: true },
    version: { type: Number, required: true },
    step: { type: String, required: true },
    dataSealed: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: "sessions", minimize: false },
);
sessionSchema.index({ expiresAt: 1 });

export type SessionState = Pick<SessionDoc, "flow" | "version" | "step" | "expiresAt"> & {
  data: Record<string, unknown>;
};

export class Sessions {
  constructor(
    private readonly model: Model<SessionDoc>,
    private readonly sealer: Sealer,
  ) {}

  /** The live session, or undefined when there is none or it has expired. */
  async load(key: string, now: Date): Promise<SessionState | undefined> {
    const doc = await this.model.findOne({ key, expiresAt: { $gt: now } }).lean();
    if (!doc) return undefined;
    const data = this.dataOf(doc);
    // Data no configured key opens cannot be resumed: the person starts the flow again.
    if (!data) return undefined;
    return { flow: doc.flow, version: doc.version, step: doc.step, data, expiresAt: doc.expiresAt };
  }

  async save(key: string, state: SessionState, now: Date): Promise<void> {
    const { data, ...rest } = state;
    await this.model.updateOne(
      { key },
      {
        $set: { ...rest, dataSealed: this.sealer.seal(JSON.stringify(data)), updatedAt: now },
        $unset: { data: 1 },
      },
      { upsert: true },
    );
  }

  /** Reseals live sessions under the current key (npm run keys:rotate). */
  reseal(): Promise<number> {
    return resealField(this.model, "dataSealed", this.sealer);
  }

  /** Sessions saved before data was sealed carry it in plaintext (`data`) and still resume. */
  private dataOf(doc: SessionDoc): Record<string, unknown> | undefined {
    try {
      if (typeof doc.dataSealed === "string") {
        return JSON.parse(this.sealer.open(doc.dataSealed)) as Record<string, unknown>;
      }
      const legacy = (doc as { data?: unknown }).data;
      return typeof legacy === "object" && legacy !== null ? (legacy as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  async clear(key: string): Promise<void> {
    await this.model.deleteOne({ key });
  }

  /** Deletes expired sessions; an abandoned flow leaves no trace. */
  async sweep(now: Date): Promise<number> {
    const result = await this.model.deleteMany({ expiresAt: { $lte: now } });
    return result.deletedCount;
  }
}
