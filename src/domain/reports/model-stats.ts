import type { Model } from "mongoose";
import { MODEL_STATUSES, type ModelDoc, type ModelStatus } from "../dvk/schema.js";
import type { Count } from "./ticket-stats.js";

/** A "Dân vận khéo" model as reports list it: what it is and where it stands. */
export type ModelRow = Pick<
  ModelDoc,
  | "code"
  | "name"
  | "field"
  | "unitKey"
  | "personInCharge"
  | "status"
  | "late"
  | "startDay"
  | "endDay"
  | "year"
  | "results"
>;

export interface ModelStats {
  year: number;
  total: number;
  /** Every status, in lifecycle order, zeros included: the Office reads the whole pipeline. */
  byStatus: Count<ModelStatus>[];
  byField: Count[];
  byUnit: Count[];
  late: number;
}

function counts(keys: string[]): Count[] {
  const map = new Map<string, number>();
  for (const key of keys) map.set(key, (map.get(key) ?? 0) + 1);
  return [...map.entries()]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/** Models by status, field and unit. */
export function modelStats(rows: ModelRow[], year: number): ModelStats {
  return {
    year,
    total: rows.length,
    byStatus: MODEL_STATUSES.map((status) => ({
      key: status,
      count: rows.filter((r) => r.status === status).length,
    })),
    byField: counts(rows.map((r) => r.field)),
    byUnit: counts(rows.map((r) => r.unitKey)),
    late: rows.filter((r) => r.late).length,
  };
}

/** The models of a year (optionally of one unit), in code order. */
export async function loadModelRows(
  models: Model<ModelDoc>,
  year: number,
  unitKey?: string,
): Promise<ModelRow[]> {
  return models
    .find(
      { year, ...(unitKey ? { unitKey } : {}) },
      {
        code: 1,
        name: 1,
        field: 1,
        unitKey: 1,
        personInCharge: 1,
        status: 1,
        late: 1,
        startDay: 1,
        endDay: 1,
        year: 1,
        results: 1,
      },
    )
    .sort({ code: 1 })
    .lean<ModelRow[]>();
}
