import type { Model } from "mongoose";

/** Values per `$in` list: long lists are read in parts. */
const CHUNK = 500;

/** Which of `values` a document of the collection holds in `field` (string values). */
export async function present<T>(
  model: Model<T>,
  field: string,
  values: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < values.length; i += CHUNK) {
    const docs = await model
      .find()
      .where(field)
      .in(values.slice(i, i + CHUNK))
      .select({ [field]: 1 })
      .lean<Record<string, unknown>[]>();
    for (const doc of docs) {
      const value = doc[field];
      if (typeof value === "string") found.add(value);
    }
  }
  return found;
}
