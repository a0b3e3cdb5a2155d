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
