import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";

/**
 * One piece of public information a clerk types in a chat (or the seed file holds): its label,
 * the question that asks for it, and the check it must pass. The same check guards the chat and
 * data/public/*.yaml, so the seed cannot hold what a clerk could not type.
 */
export interface FieldSpec {
  key: string;
  label: string;
  ask: string;
  parse(text: string): { value: string } | { error: string };
}

const tx = t.announcements;

function textField(key: string, label: string, ask: string, min: number, max: number): FieldSpec {
  return {
    key,
    label,
    ask,
    parse(text) {
      const value = text.trim().replace(/[ \t]+/g, " ");
      if (Array.from(value).length < min) return { error: tx.tooShort(label, min) };
      if (Array.from(value).length > max) return { error: tx.tooLong(label, max) };
      return { value };
    },
  };
}

// Landlines are 0 + area code + number (11 digits), mobiles 10; +84 stands for the leading 0.
const PHONE = /^(?:\+?84|0)\d{8,10}$/;
const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[a-z]{2,}$/i;

const phoneField: FieldSpec = {
  key: "phone",
  label: tx.contactLabels.phone,
  ask: tx.contactAsks.phone,
  parse(text) {
    const numbers = text
      .split(/[,;]/)
      .map((n) => n.trim())
      .filter(Boolean);
    if (numbers.length === 0 || numbers.length > 4) return { error: tx.badPhone };
    if (!numbers.every((n) => PHONE.test(n.replace(/[\s.()-]/g, "")))) return { error: tx.badPhone };
    return { value: numbers.join(", ") };
  },
};

const emailField: FieldSpec = {
  key: "email",
  label: tx.contactLabels.email,
  ask: tx.contactAsks.email,
  parse(text) {
    const value = text.trim();
    return EMAIL.test(value) ? { value } : { error: tx.badEmail };
  },
};

const websiteField: FieldSpec = {
  key: "website",
  label: tx.contactLabels.website,
  ask: tx.contactAsks.website,
  parse(text) {
    const value = text.trim();
    try {
      const url = new URL(value);
      if ((url.protocol === "https:" || url.protocol === "http:") && url.hostname.includes("."))
        return { value };
    } catch {
      // Not a URL at all: the same answer as a URL of the wrong kind.
    }
    return { error: tx.badWebsite };
  },
};

/** Keywords arrive as "nhãn hiệu, sở hữu trí tuệ"; stored as typed (with diacritics), compared folded. */
const keywordsField: FieldSpec = {
  key: "keywords",
  label: tx.faqLabels.keywords,
  ask: tx.faqAsks.keywords,
  parse(text) {
    const keywords = text
      .split(/[,;\n]/)
      .map((k) => k.trim().replace(/\s+/g, " "))
      .filter(Boolean);
    const ok =
      keywords.length >= 1 &&
      keywords.length <= 12 &&
      keywords.every((k) => fold(k).replace(/[^a-z0-9]/g, "").length >= 3 && k.length <= 60);
    return ok ? { value: keywords.join(", ") } : { error: tx.badKeywords };
  },
};

/** "a, b, c" as the keywords field stores it → the list. */
export function splitKeywords(value: string): string[] {
  return value
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
}

export const SLOT_FIELDS: readonly FieldSpec[] = [
  textField("who", tx.slotLabels.who, tx.slotAsks.who, 3, 200),
  textField("when", tx.slotLabels.when, tx.slotAsks.when, 5, 300),
  textField("where", tx.slotLabels.where, tx.slotAsks.where, 5, 300),
  textField("register", tx.slotLabels.register, tx.slotAsks.register, 5, 600),
];

export const CONTACT_FIELD_SPECS: readonly FieldSpec[] = [
  textField("address", tx.contactLabels.address, tx.contactAsks.address, 10, 300),
  phoneField,
  emailField,
  websiteField,
  textField("hours", tx.contactLabels.hours, tx.contactAsks.hours, 5, 300),
];

export const FAQ_FIELDS: readonly FieldSpec[] = [
  textField("question", tx.faqLabels.question, tx.faqAsks.question, 8, 200),
  keywordsField,
  textField("answer", tx.faqLabels.answer, tx.faqAsks.answer, 20, 1500),
];
