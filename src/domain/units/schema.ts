import { Schema, type Types } from "mongoose";

export const UNIT_KINDS = ["office", "division", "subdepartment", "center", "other"] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];

/** A unit of the Department: Văn phòng Sở, a division, a sub-department, a centre. */
export interface UnitDoc {
  _id: Types.ObjectId;
  /** Stable ASCII key plans and invites refer to, e.g. "van-phong". */
  key: string;
  name: string;
  kind: UnitKind;
  /** Position in lists (the order of the source file). */
  order: number;
  active: boolean;
  /** The unit's group chats, where reminders also go (linked by the Office with /nhomdonvi). */
  groups: { channel: string; chatId: string }[];
}

export const unitSchema = new Schema<UnitDoc>(
  {
    key: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    kind: { type: String, enum: UNIT_KINDS, required: true },
    order: { type: Number, required: true },
    active: { type: Boolean, required: true, default: true },
    groups: { type: [{ _id: false, channel: String, chatId: String }], default: [] },
  },
  { collection: "units" },
);

/** The special unit key in plans meaning "các phòng, đơn vị": every active unit. */
export const ALL_UNITS = "all";
