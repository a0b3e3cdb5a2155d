import { readFileSync } from "node:fs";
import type { Model } from "mongoose";
import { z } from "zod";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { DataFileError, readYaml, type FileProblem } from "../data-file.js";
import { ALL_UNITS, UNIT_KINDS, type UnitDoc, type UnitKind } from "./schema.js";

export interface UnitInput {
  key: string;
  name: string;
  kind: UnitKind;
}

const unitsFile = z
  .object({
    units: z
      .array(
        z
          .object({
            key: z
              .string(t.units.badKey)
              .regex(/^[a-z0-9-]{2,40}$/, t.units.badKey)
              .refine((key) => key !== ALL_UNITS, t.units.reservedKey(ALL_UNITS)),
            name: z.string(t.units.shortName).trim().min(2, t.units.shortName),
            kind: z.enum(UNIT_KINDS, t.units.badKind(UNIT_KINDS)).default("other"),
          })
          .strict(),
      )
      .min(1, t.units.none),
  })
  .strict();

/**
 * Reads a units file such as data/units/demo.yaml.
 * @throws DataFileError listing every problem with its line.
 * @example await app.units.upsert(readUnitsFile("data/units/demo.yaml"));
 */
export function readUnitsFile(file: string): UnitInput[] {
  const { value, at } = readYaml(readFileSync(file, "utf8"), file, unitsFile);
  const problems: FileProblem[] = [];
  const seen = new Set<string>();
  value.units.forEach((unit, index) => {
    if (seen.has(unit.key))
      problems.push({ ...at(["units", index, "key"]), message: t.units.duplicateKey(unit.key) });
    seen.add(unit.key);
  });
  if (problems.length > 0) throw new DataFileError(file, problems);
  return value.units;
}

/** What an import did: units added, units whose name or kind changed, units already so. */
export interface UpsertResult {
  created: number;
  updated: number;
  unchanged: number;
}

export class UnitsService {
  constructor(private readonly model: Model<UnitDoc>) {}

  /**
   * Adds or updates units by key, so importing the same list again changes nothing; a unit keeps
   * its place in lists. Units not listed are left as they are.
   */
  async upsert(units: UnitInput[]): Promise<UpsertResult> {
    const existing = await this.model.countDocuments();
    const result: UpsertResult = { created: 0, updated: 0, unchanged: 0 };
    for (const [index, unit] of units.entries()) {
      const { upsertedCount, modifiedCount } = await this.model.updateOne(
        { key: unit.key },
        {
          $set: { name: unit.name, kind: unit.kind, active: true },
          $setOnInsert: { order: existing + index },
        },
        { upsert: true },
      );
      if (upsertedCount > 0) result.created += 1;
      else if (modifiedCount > 0) result.updated += 1;
      else result.unchanged += 1;
    }
    return result;
  }

  /** Links a group chat to a unit (and unlinks it from any other: one group, one unit). */
  async linkGroup(key: string, group: { channel: string; chatId: string }): Promise<void> {
    await this.unlinkGroup(group);
    const unit = await this.model.findOne({ key }).lean();
    if (!unit) return;
    await this.model.updateOne({ key }, { $set: { groups: [...(unit.groups ?? []), group] } });
  }

  /** Unlinks a group chat from whatever unit had it; the unit it was linked to, if any. */
  async unlinkGroup(group: { channel: string; chatId: string }): Promise<UnitDoc | undefined> {
    const linked = await this.model.find({ "groups.chatId": group.chatId }).lean();
    for (const unit of linked) {
      // No $pull with a condition on FerretDB (ARCHITECTURE.md): the array is rewritten.
      const groups = (unit.groups ?? []).filter(
        (g) => !(g.channel === group.channel && g.chatId === group.chatId),
      );
      await this.model.updateOne({ _id: unit._id }, { $set: { groups } });
    }
    return linked.find((u) =>
      (u.groups ?? []).some((g) => g.channel === group.channel && g.chatId === group.chatId),
    );
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
