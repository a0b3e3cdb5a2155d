import { readFileSync } from "node:fs";
import type { Model } from "mongoose";
import { parse } from "yaml";
import { z } from "zod";
import { fold } from "../../text/normalize.js";
import { ALL_UNITS, UNIT_KINDS, type UnitDoc, type UnitKind } from "./schema.js";

export interface UnitInput {
  key: string;
  name: string;
  kind: UnitKind;
}

const unitsFile = z.object({
  units: z.array(
    z.object({
      key: z.string().regex(/^[a-z0-9-]{2,40}$/),
      name: z.string().min(2),
      kind: z.enum(UNIT_KINDS).default("other"),
    }),
  ),
});

/** Reads a units file such as data/units/demo.yaml. */
export function readUnitsFile(file: string): UnitInput[] {
  return unitsFile.parse(parse(readFileSync(file, "utf8"))).units;
}

export class UnitsService {
  constructor(private readonly model: Model<UnitDoc>) {}

  /** Adds or updates units by key; keeps their order. Units not listed are left as they are. */
  async upsert(units: UnitInput[]): Promise<void> {
    const existing = await this.model.countDocuments();
    for (const [index, unit] of units.entries()) {
      await this.model.updateOne(
        { key: unit.key },
        {
          $set: { name: unit.name, kind: unit.kind, active: true },
          $setOnInsert: { order: existing + index },
        },
        { upsert: true },
      );
    }
  }

  async list(): Promise<UnitDoc[]> {
    return this.model.find({ active: true }).sort({ order: 1, key: 1 }).lean();
  }

  async get(key: string): Promise<UnitDoc | undefined> {
    return (await this.model.findOne({ key }).lean()) ?? undefined;
  }

  /** Names by key, for rendering lists without a query per line. */
  async names(): Promise<Map<string, string>> {
    return new Map((await this.model.find().lean()).map((u) => [u.key, u.name]));
  }

  /** The units a task's unit list means: `all` expands to every active unit. */
  async expand(keys: readonly string[]): Promise<UnitDoc[]> {
    const units = await this.list();
    return keys.includes(ALL_UNITS) ? units : units.filter((u) => keys.includes(u.key));
  }

  /** A unit named by what someone typed: its key, or a part of its name without diacritics. */
  async find(query: string): Promise<UnitDoc[]> {
    const units = await this.list();
    const key = fold(query);
    const exact = units.filter((u) => u.key === key.replace(/\s+/g, "-") || fold(u.name) === key);
    return exact.length > 0 ? exact : units.filter((u) => fold(u.name).includes(key));
  }
}
