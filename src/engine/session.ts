import { Schema, type Model, type Types } from "mongoose";

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
  data: Record<string, unknown>;
  expiresAt: Date;
  updatedAt: Date;
}

export const sessionSchema = new Schema<SessionDoc>(
  {
    key: { type: String, required: true, unique: true },
    flow: { type: String, required: true },
    version: { type: Number, required: true },
    step: { type: String, required: true },
    data: { type: Schema.Types.Mixed, required: true },
    expiresAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: "sessions", minimize: false },
);
sessionSchema.index({ expiresAt: 1 });

export type SessionState = Pick<SessionDoc, "flow" | "version" | "step" | "data" | "expiresAt">;

export class Sessions {
  constructor(private readonly model: Model<SessionDoc>) {}

  /** The live session, or undefined when there is none or it has expired. */
  async load(key: string, now: Date): Promise<SessionState | undefined> {
    const doc = await this.model.findOne({ key, expiresAt: { $gt: now } }).lean();
    if (!doc) return undefined;
    return { flow: doc.flow, version: doc.version, step: doc.step, data: doc.data, expiresAt: doc.expiresAt };
  }

  async save(key: string, state: SessionState, now: Date): Promise<void> {
    await this.model.updateOne({ key }, { $set: { ...state, updatedAt: now } }, { upsert: true });
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
