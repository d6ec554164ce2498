/**
 * Turning configuration problems into one line each:
 * `liiibre:tenants[3].users: expected an integer >= 1, got -5`.
 */
import type { z } from "zod";

export const CONFIG_NAMESPACE = "liiibre";

export interface ConfigProblem {
  /** Full key path, e.g. `liiibre:tenants[3].users`. */
  path: string;
  /** What was expected and what was found. */
  message: string;
}

/** Thrown by the loader when the configuration is invalid; carries every problem found. */
export class ConfigError extends Error {
  constructor(public readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
  }
}

export const formatProblem = (p: ConfigProblem): string => `${p.path}: ${p.message}`;

/** `["tenants", 3, "users"]` → `liiibre:tenants[3].users`. */
export function keyPath(segments: ReadonlyArray<PropertyKey>): string {
  let out = `${CONFIG_NAMESPACE}:`;
  segments.forEach((s, i) => {
    if (typeof s === "number") out += `[${s}]`;
    else out += i === 0 ? String(s) : `.${String(s)}`;
  });
  return out;
}

/** A short, readable rendering of a value found in the config. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    const shown = value.slice(0, 6).map(describe).join(", ");
    return `[${shown}${value.length > 6 ? ", …" : ""}]`;
  }
  return "an object";
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  record: "an object",
};

/** Converts zod issues (parsed with `reportInput: true`) into problems. */
export function problemsFromZod(issues: ReadonlyArray<z.core.$ZodIssue>, schema: z.ZodType): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const input = (issue as { input?: unknown }).input;
    switch (issue.code) {
      case "unrecognized_keys": {
        const allowed = allowedKeysAt(schema, issue.path, input);
        for (const key of issue.keys) {
          const hint = closest(key, allowed);
          problems.push({
            path: keyPath([...issue.path, key]),
            message:
              `unknown key${hint ? ` (did you mean "${hint}"?)` : ""}` +
              (allowed.length ? `; expected one of ${allowed.join(" | ")}` : ""),
          });
        }
        break;
      }
      case "invalid_value":
        problems.push({
          path: keyPath(issue.path),
          message: `expected one of ${issue.values.map(String).join(" | ")}, got ${describe(input)}`,
        });
        break;
      case "invalid_union": {
        // zod reports a bad discriminator at `<path>.<discriminator>` with the options.
        const u = issue as { discriminator?: string; options?: unknown[] };
        const found = u.discriminator && input && typeof input === "object" ? (input as Record<string, unknown>)[u.discriminator] : input;
        problems.push({
          path: keyPath(issue.path),
          message: u.options?.length
            ? `expected one of ${u.options.map(String).join(" | ")}, got ${describe(found)}`
            : `expected one of the documented shapes, got ${describe(input)}`,
        });
        break;
      }
      case "invalid_type":
        if (issue.message.startsWith("expected ")) {
          problems.push({ path: keyPath(issue.path), message: `${issue.message}, got ${describe(input)}` });
        } else {
          const expected = TYPE_NAMES[issue.expected] ?? String(issue.expected);
          problems.push({
            path: keyPath(issue.path),
            message: `${input === undefined ? "required: " : ""}expected ${expected}, got ${describe(input)}`,
          });
        }
        break;
      default:
        problems.push({
          path: keyPath(issue.path),
          message: issue.message.startsWith("expected ")
            ? `${issue.message}, got ${describe(input)}`
            : `${issue.message} (got ${describe(input)})`,
        });
    }
  }
  return problems;
}

// --- schema introspection (for "unknown key" hints) ------------------------------------

type AnyDef = { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType>; element?: z.ZodType; options?: z.ZodType[]; valueType?: z.ZodType; discriminator?: string };
const defOf = (s: z.ZodType): AnyDef => (s as unknown as { _zod: { def: AnyDef } })._zod.def;

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (;;) {
    const def = defOf(cur);
    if (def.innerType && ["default", "prefault", "optional", "nullable", "readonly", "catch", "nonoptional"].includes(def.type)) {
      cur = def.innerType;
    } else return cur;
  }
}

function schemaAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>, input?: unknown): z.ZodType | undefined {
  let cur: z.ZodType | undefined = unwrap(schema);
  for (const seg of path) {
    if (!cur) return undefined;
    const def = defOf(cur);
    if (def.type === "array" && typeof seg === "number") cur = def.element && unwrap(def.element);
    else if (def.type === "object" && def.shape) cur = def.shape[String(seg)] && unwrap(def.shape[String(seg)]);
    else if (def.type === "record" && def.valueType) cur = unwrap(def.valueType);
    else return undefined;
    if (cur && defOf(cur).type === "union") cur = pickUnionOption(cur, undefined);
  }
  if (cur && defOf(cur).type === "union") cur = pickUnionOption(cur, input);
  return cur;
}

function pickUnionOption(union: z.ZodType, input: unknown): z.ZodType | undefined {
  const def = defOf(union);
  const options = (def.options ?? []).map(unwrap);
  if (def.discriminator && input && typeof input === "object") {
    const want = (input as Record<string, unknown>)[def.discriminator];
    const match = options.find((o) => {
      const d = defOf(o).shape?.[def.discriminator!];
      return d && (defOf(d) as unknown as { values?: unknown[] }).values?.includes(want);
    });
    if (match) return match;
  }
  return options[0];
}

function allowedKeysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>, input: unknown): string[] {
  const at = schemaAt(schema, path, input);
  const shape = at ? defOf(at).shape : undefined;
  return shape ? Object.keys(shape) : [];
}

/** The allowed word nearest to `word` (Levenshtein distance ≤ 3), for "did you mean" hints. */
export function closest(word: string, candidates: ReadonlyArray<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(1, Math.min(3, Math.floor(word.length / 3))) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
