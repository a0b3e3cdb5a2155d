import { Schema, type Types } from "mongoose";
import type { Attachment } from "../../engine/message.js";
import type { Day } from "../calendar/work-calendar.js";

/**
 * Where a model stands. The Office drives the lifecycle; everyone can follow it:
 * đã đăng ký → đang thẩm định → đạt / cần bổ sung / không đạt → đang triển khai →
 * đã báo cáo kết quả → (được công nhận điển hình).
 */
export const MODEL_STATUSES = [
  "registered",
  "appraising",
  "passed",
  "needs_changes",
  "failed",
  "implementing",
  "reported",
  "recognised",
] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

/** The Office's moves from each status (/duyet). Resubmission and results are the unit's. */
export const OFFICE_TRANSITIONS: Record<ModelStatus, readonly ModelStatus[]> = {
  registered: ["appraising", "passed", "needs_changes", "failed"],
  appraising: ["passed", "needs_changes", "failed"],
  needs_changes: ["failed"],
  passed: ["implementing", "needs_changes"],
  failed: [],
  implementing: ["reported", "recognised"],
  reported: ["recognised", "implementing"],
  recognised: [],
};

/** What a unit registers; every version of it is kept. */
export interface ModelContent {
  name: string;
  field: string;
  unitKey: string;
  personInCharge: string;
  targetGroup: string;
  content: string;
  expectedResults: string;
  startDay: Day;
  endDay: Day;
}

export const CONTENT_KEYS = [
  "name",
  "field",
  "unitKey",
  "personInCharge",
  "targetGroup",
  "content",
  "expectedResults",
  "startDay",
  "endDay",
] as const satisfies readonly (keyof ModelContent)[];

export interface ModelDoc extends ModelContent {
  _id: Types.ObjectId;
  /** MH-2025-007: the year's sequence. */
  code: string;
  year: number;
  status: ModelStatus;
  /** Registered after the year's deadline (data/dvk/rules.yaml). */
  late: boolean;
  registeredBy: { personId: Types.ObjectId; name: string };
  versions: { at: Date; byName: string; content: ModelContent }[];
  history: { at: Date; byName: string; status: ModelStatus; comment?: string }[];
  results: { at: Date; byName: string; text: string; attachments: Attachment[] }[];
  /**
   * The updates (their dedupe keys) that changed the model after it was registered. A replay of one
   * of them after a crash finds its change made and tells the unit again, instead of refusing it.
   */
  updates?: string[];
  idempotencyKey: string;
  createdAt: Date;
}

const contentFields = {
  name: { type: String, required: true, maxlength: 300 },
  field: { type: String, required: true },
  unitKey: { type: String, required: true },
  personInCharge: { type: String, required: true },
  targetGroup: { type: String, required: true },
  content: { type: String, required: true, maxlength: 4000 },
  expectedResults: { type: String, required: true, maxlength: 2000 },
  startDay: { type: String, required: true },
  endDay: { type: String, required: true },
};

export const modelSchema = new Schema<ModelDoc>(
  {
    ...contentFields,
    code: { type: String, required: true, unique: true },
    year: { type: Number, required: true },
    status: { type: String, enum: MODEL_STATUSES, required: true },
    late: { type: Boolean, required: true },
    registeredBy: {
      personId: { type: Schema.Types.ObjectId, required: true },
      name: { type: String, required: true },
    },
    versions: [{ _id: false, at: Date, byName: String, content: { type: Schema.Types.Mixed } }],
    history: [{ _id: false, at: Date, byName: String, status: String, comment: String }],
    updates: { type: [String], default: undefined },
    results: [
      {
        _id: false,
        at: Date,
        byName: String,
        text: String,
        attachments: [
          { _id: false, kind: String, ref: String, name: String, mimeType: String, size: Number },
        ],
      },
    ],
    idempotencyKey: { type: String, required: true, unique: true },
    createdAt: { type: Date, required: true },
  },
  { collection: "dvk_models" },
);
modelSchema.index({ year: 1, unitKey: 1, status: 1 });
