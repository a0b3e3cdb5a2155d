import { Types, type Model } from "mongoose";
import { isDuplicateKeyError } from "../../db/errors.js";
import type { SubscriptionDoc } from "./schema.js";

/** /dangky and /huydangky: who asked to receive the Department's announcements. */
export class SubscriptionService {
  constructor(private readonly model: Model<SubscriptionDoc>) {}

  /** Idempotent: a second /dangky says so instead of subscribing twice. */
  async subscribe(personId: string, now: Date): Promise<"subscribed" | "already"> {
    const id = new Types.ObjectId(personId);
    const current = await this.model.findOne({ personId: id }).lean();
    if (current?.active) return "already";
    try {
      await this.model.updateOne(
        { personId: id },
        { $set: { active: true, subscribedAt: now }, $unset: { unsubscribedAt: 1 } },
        { upsert: true },
      );
    } catch (error) {
      // The same person subscribing from two linked accounts at once: the other one won.
      if (isDuplicateKeyError(error)) return "already";
      throw error;
    }
    return "subscribed";
  }

  async unsubscribe(personId: string, now: Date): Promise<"unsubscribed" | "not_subscribed"> {
    const result = await this.model.updateOne(
      { personId: new Types.ObjectId(personId), active: true },
      { $set: { active: false, unsubscribedAt: now } },
    );
    return result.matchedCount > 0 ? "unsubscribed" : "not_subscribed";
  }

  async isSubscribed(personId: string): Promise<boolean> {
    return (await this.model.countDocuments({ personId: new Types.ObjectId(personId), active: true })) > 0;
  }

  /** Everyone subscribed now. */
  async activeIds(): Promise<Types.ObjectId[]> {
    const docs = await this.model.find({ active: true }, { personId: 1 }).lean();
    return docs.map((d) => d.personId);
  }

  /** Of these people, the ones subscribed now (as id strings). */
  async activeAmong(personIds: readonly Types.ObjectId[]): Promise<Set<string>> {
    const docs = await this.model
      .find({ personId: { $in: personIds }, active: true }, { personId: 1 })
      .lean();
    return new Set(docs.map((d) => d.personId.toString()));
  }
}
