import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { z } from "zod";
import { t } from "../text/vi.js";

/**
 * The YAML files the Office writes (plans, units) are read here: checked without a database, so
 * an import's `--dry-run` works anywhere, and every complaint points at the line to fix.
 */

export interface FileProblem {
  line: number;
  /** Where in the file, e.g. `tasks[2].units`; empty for a YAML syntax error. */
  path: string;
  message: string;
}

/** A data file with mistakes: all of them, each as `file:line: path: message`. */
export class DataFileError extends Error {
  override name = "DataFileError";
  constructor(
    readonly file: string,
    readonly problems: FileProblem[],
  ) {
    super(problems.map((p) => `${file}:${p.line}: ${p.path ? `${p.path}: ` : ""}${p.message}`).join("\n"));
  }
}

export interface CheckedYaml<T> {
  value: T;
  /** For checks after the schema: the line of `path` in the file. */
  at(path: PropertyKey[]): { line: number; path: string };
}

/** The line of the deepest node along `path` that exists (a missing key points at its parent). */
function lineOf(doc: Document, counter: LineCounter, path: PropertyKey[]): number {
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = doc.getIn(path.slice(0, depth), true) as Node | undefined;
    if (node && (isMap(node) || isScalar(node) || isSeq(node)) && node.range) {
      return counter.linePos(node.range[0]).line;
    }
  }
  return 1;
}

function pathText(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
}

// zod's own messages (a missing field, an unknown key) in Vietnamese too; a schema's messages win.
const vietnamese = z.locales.vi().localeError;

/**
 * Parses YAML `text` and checks it against `schema`.
 * @throws DataFileError listing every problem with its line.
 * @example const { value, at } = readYaml(text, "ke-hoach.yaml", planSchema);
 */
export function readYaml<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
): CheckedYaml<z.output<S>> {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new DataFileError(
      file,
      doc.errors.map((e) => ({
        line: e.linePos?.[0]?.line ?? 1,
        path: "",
        message: `YAML: ${e.message.split("\n")[0]}`,
      })),
    );
  }
  const at = (path: PropertyKey[]) => ({ line: lineOf(doc, counter, path), path: pathText(path) });
  const parsed = schema.safeParse(doc.toJS(), { error: vietnamese });
  if (!parsed.success) {
    throw new DataFileError(
      file,
      // An unknown key (often a misspelt one) is pointed at on its own line, not its parent's.
      parsed.error.issues.flatMap((issue) =>
        issue.code === "unrecognized_keys"
          ? issue.keys.map((key) => ({ ...at([...issue.path, key]), message: t.dataFile.unknownKey(key) }))
          : [{ ...at(issue.path), message: issue.message }],
      ),
    );
  }
  return { value: parsed.data, at };
}
