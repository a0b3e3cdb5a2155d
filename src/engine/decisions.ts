import { Schema, type Model } from "mongoose";
import { isDuplicateKeyError } from "../db/errors.js";
import { GroupInsert } from "../db/group-insert.js";
import { resealField } from "../privacy/reseal.js";
import type { Sealer } from "../privacy/sealer.js";
import type { Outbound } from "./message.js";
import { KEEP_OUTBOUND_MS, keptOutbound, sealOutbound } from "./sealed-outbound.js";
import type { Committed } from "./session.js";

/**
 * What a turn that keeps no flow state decided to send (a command outside any flow: `/phanquyen`,
 * `/tracuu`, an official's reply to a reminder), written after its effects and before anything is
 * sent. A flow's turn keeps the same with its state (SessionDoc.outboundSealed); this is the
 * commit of the turns that have no state to write. Once it stands the turn is done but for
 * sending: recovery after a crash sends these instead of running the turn again, which would
 * apply a change the person may have undone since (a role given, then taken back).
 *
 * An insert under the update's dedupe key: the one write whose cost does not grow with the
 * collection on FerretDB (docs/ferretdb.md), and the turn's "handled" mark can then be held and
 * written with others, as a flow turn's is.
 */
export interface DecisionDoc {
  /** The update's dedupe key. */
  _id: string;
  /** The messages, sealed (sealOutbound). */
  outboundSealed: string;
  decidedAt: Date;
}

export const decisionSchema = new Schema<DecisionDoc>(
  {
    _id: { type: String },
    outboundSealed: { type: String, required: true },
    decidedAt: { type: Date, required: true },
  },
  { collection: "decisions", versionKey: false },
);
decisionSchema.index({ decidedAt: 1 });

export class Decisions {
  /** Decisions of turns ending together, written together. */
  private readonly inserts: GroupInsert<DecisionDoc>;

  constructor(
    private readonly model: Model<DecisionDoc>,
    private readonly sealer: Sealer,
  ) {
    this.inserts = new GroupInsert(model);
  }

  /**
   * Keeps what `update`'s turn decided. Already kept (a try whose answer was lost, or another run
   * of the same turn): that one stands, and its messages are returned, to be sent instead of what
   * this run decided (as Sessions.save does).
   */
  async write(update: string, outbound: Outbound[], now: Date): Promise<Outbound[] | undefined> {
    try {
      await this.inserts.insert({
        _id: update,
        outboundSealed: sealOutbound(this.sealer, outbound),
        decidedAt: now,
      });
      return undefined;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return (await this.read(update))?.outbound;
    }
  }

  /** What `update`'s turn decided; undefined when it decided nothing kept, or no key opens it. */
  async read(update: string): Promise<Committed | undefined> {
    const doc = await this.model.findById(update, { outboundSealed: 1 }).lean();
    const outbound = keptOutbound(this.sealer, doc?.outboundSealed);
    return outbound ? { ended: true, outbound } : undefined;
  }

  /** Removes what is older than recovery looks back (KEEP_OUTBOUND_MS). */
  async sweep(now: Date): Promise<number> {
    const { deletedCount } = await this.model.deleteMany({
      decidedAt: { $lt: new Date(now.getTime() - KEEP_OUTBOUND_MS) },
    });
    return deletedCount;
  }

  /** Reseals under the current key (npm run keys:rotate). */
  async reseal(): Promise<number> {
    return resealField(this.model, "outboundSealed", this.sealer);
  }
}
