import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { CONTACT_FIELD_SPECS, FAQ_FIELDS, SLOT_FIELDS, splitKeywords, type FieldSpec } from "./fields.js";
import type { PublicData } from "./public-info.js";

/** A string that passes the same check as the chat, stored as the chat would store it. */
function checked(fields: readonly FieldSpec[], key: string) {
  const field = fields.find((f) => f.key === key);
  if (!field) throw new Error(`no field ${key}`);
  return z.string().transform((text, ctx) => {
    const result = field.parse(text);
    if ("error" in result) {
      ctx.addIssue({ code: "custom", message: result.error });
      return z.NEVER;
    }
    return result.value;
  });
}

const KEY = z.string().regex(/^[a-z0-9-]{2,60}$/);

const receptionFile = z.object({
  slots: z.array(
    z.object({
      key: KEY,
      who: checked(SLOT_FIELDS, "who"),
      when: checked(SLOT_FIELDS, "when"),
      where: checked(SLOT_FIELDS, "where"),
      register: checked(SLOT_FIELDS, "register"),
    }),
  ),
});

const contactsFile = z.object({
  contact: z.object({
    address: checked(CONTACT_FIELD_SPECS, "address"),
    phone: checked(CONTACT_FIELD_SPECS, "phone"),
    email: checked(CONTACT_FIELD_SPECS, "email"),
    website: checked(CONTACT_FIELD_SPECS, "website"),
    hours: checked(CONTACT_FIELD_SPECS, "hours"),
  }),
});

const faqFile = z.object({
  faqs: z.array(
    z.object({
      key: KEY,
      question: checked(FAQ_FIELDS, "question"),
      // Written as a YAML list; checked as the chat checks "a, b, c".
      keywords: z
        .array(z.string())
        .transform((list) => list.join(", "))
        .pipe(checked(FAQ_FIELDS, "keywords"))
        .transform(splitKeywords),
      answer: checked(FAQ_FIELDS, "answer"),
    }),
  ),
});

function read<T>(schema: z.ZodType<T>, file: string): T {
  const result = schema.safeParse(parse(readFileSync(file, "utf8")));
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`${path.basename(file)}: ${problems}`);
  }
  return result.data;
}

/** Reads data/public: reception.yaml, contacts.yaml, faq.yaml. */
export function readPublicData(dir: string): PublicData {
  return {
    slots: read(receptionFile, path.join(dir, "reception.yaml")).slots,
    contact: read(contactsFile, path.join(dir, "contacts.yaml")).contact,
    faqs: read(faqFile, path.join(dir, "faq.yaml")).faqs,
  };
}
