// Builders for schema leaves. Each records what kind of value it holds, so the env overlay,
// the docs table and `olla config` can treat durations, sizes and lists the way a user writes them.

import { z } from "zod";
import { formatDuration, formatSize, parseDuration, parseSize } from "./units.ts";

export type LeafKind =
  "string" | "number" | "boolean" | "choice" | "duration" | "size" | "list" | "map" | "endpoints" | "secret";

const leafKinds = new WeakMap<z.ZodType, LeafKind>();
const leafChoices = new WeakMap<z.ZodType, readonly string[]>();

function tag<T extends z.ZodType>(schema: T, kind: LeafKind): T {
  leafKinds.set(schema, kind);
  return schema;
}

/** The kind recorded for a (possibly wrapped) schema, or undefined for plain objects. */
export function leafKind(schema: z.ZodType): LeafKind | undefined {
  let current: z.ZodType | undefined = schema;
  while (current) {
    const kind = leafKinds.get(current);
    if (kind) return kind;
    current = innerOf(current);
  }
  return undefined;
}

/** The allowed values of a choice leaf (through wrappers), or undefined. */
export function choicesOf(schema: z.ZodType): readonly string[] | undefined {
  for (let current: z.ZodType | undefined = schema; current; current = innerOf(current)) {
    const found = leafChoices.get(current);
    if (found) return found;
  }
  return undefined;
}

/** Unwraps default / prefault / optional / nullable wrappers by one level. */
export function innerOf(schema: z.ZodType): z.ZodType | undefined {
  const def = (schema as { def?: { type?: string; innerType?: z.ZodType } }).def;
  if (!def) return undefined;
  if (
    def.type === "default" ||
    def.type === "prefault" ||
    def.type === "optional" ||
    def.type === "nullable"
  ) {
    return def.innerType;
  }
  return undefined;
}

const TRUE_WORDS = new Set(["true", "yes", "on", "1"]);
const FALSE_WORDS = new Set(["false", "no", "off", "0"]);

export function flag(value: boolean, doc: string) {
  const schema = z.union([z.boolean(), z.string(), z.number()]).transform((input, ctx) => {
    if (typeof input === "boolean") return input;
    const word = String(input).trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    ctx.addIssue({ code: "custom", message: "expected true or false" });
    return z.NEVER;
  });
  return tag(schema, "boolean").prefault(value).describe(doc);
}

export function int(value: number, doc: string, range: { min?: number; max?: number } = {}) {
  let schema = z.number({ error: "expected a whole number" }).int({ error: "expected a whole number" });
  if (range.min !== undefined) schema = schema.min(range.min, { error: `expected a number ≥ ${range.min}` });
  if (range.max !== undefined) schema = schema.max(range.max, { error: `expected a number ≤ ${range.max}` });
  return tag(schema, "number").default(value).describe(doc);
}

export function positive(value: number, doc: string) {
  const schema = z.number({ error: "expected a number" }).positive({ error: "expected a number > 0" });
  return tag(schema, "number").default(value).describe(doc);
}

export function text(value: string, doc: string) {
  return tag(z.string({ error: "expected a string" }), "string")
    .default(value)
    .describe(doc);
}

export function optionalText(doc: string) {
  return tag(z.string({ error: "expected a string" }), "string")
    .optional()
    .describe(doc);
}

/** A string that must be one of `values` (any case, spaces trimmed) or one of their `aliases`. */
function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
  aliases: Record<string, T[number]> = {},
) {
  const expected = `expected one of ${values.join(", ")}${
    Object.keys(aliases).length ? ` (also accepted: ${Object.keys(aliases).join(", ")})` : ""
  }`;
  return z.string({ error: expected }).transform((input, ctx): T[number] => {
    const word = input.trim().toLowerCase();
    if ((values as readonly string[]).includes(word)) return word as T[number];
    const aliased = aliases[word];
    if (aliased) return aliased;
    ctx.addIssue({ code: "custom", message: expected });
    return z.NEVER;
  });
}

/** A fixed set of values; `aliases` maps other spellings users write (e.g. "round-robin") onto one. */
export function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  value: T[number],
  doc: string,
  aliases: Record<string, T[number]> = {},
) {
  const schema = oneOf(values, aliases);
  leafChoices.set(schema, values);
  return tag(schema, "choice").prefault(value).describe(doc);
}

/** Timers take at most 2^31-1 ms (about 24.8 days); a longer one fires at once, in a loop. So every
 * duration stops at a round 24 days. */
const LONGEST_DURATION_MS = 24 * 24 * 3_600_000;

function tooLong(ctx: z.RefinementCtx): never {
  ctx.addIssue({
    code: "custom",
    message: `expected at most ${formatDuration(LONGEST_DURATION_MS)} (24 days), the longest timer olla can set`,
  });
  return z.NEVER;
}

export function duration(value: string, doc: string, range: { min?: string; max?: string } = {}) {
  const min = range.min === undefined ? undefined : (parseDuration(range.min) as number);
  const max = range.max === undefined ? undefined : (parseDuration(range.max) as number);
  const schema = z.union([z.string(), z.number()]).transform((input, ctx) => {
    const ms = parseDuration(input);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: "expected a duration such as 500ms, 5s, 15m or 1h" });
      return z.NEVER;
    }
    if (min !== undefined && ms < min) {
      ctx.addIssue({ code: "custom", message: `expected at least ${formatDuration(min)}` });
      return z.NEVER;
    }
    if (max !== undefined && ms > max) {
      ctx.addIssue({ code: "custom", message: `expected at most ${formatDuration(max)}` });
      return z.NEVER;
    }
    if (ms > LONGEST_DURATION_MS) return tooLong(ctx);
    return ms;
  });
  return tag(schema, "duration").prefault(value).describe(doc);
}

export function optionalDuration(doc: string) {
  const schema = z.union([z.string(), z.number()]).transform((input, ctx) => {
    const ms = parseDuration(input);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: "expected a duration such as 500ms, 5s, 15m or 1h" });
      return z.NEVER;
    }
    if (ms > LONGEST_DURATION_MS) return tooLong(ctx);
    return ms;
  });
  return tag(schema, "duration").optional().describe(doc);
}

export function size(value: string | number, doc: string, range: { min?: number } = {}) {
  const schema = z.union([z.string(), z.number()]).transform((input, ctx) => {
    const bytes = parseSize(input);
    if (bytes === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "expected a size such as 50MB, 1MiB, 512KB or a number of bytes",
      });
      return z.NEVER;
    }
    if (range.min !== undefined && bytes < range.min) {
      ctx.addIssue({ code: "custom", message: `expected at least ${formatSize(range.min)}` });
      return z.NEVER;
    }
    return bytes;
  });
  return tag(schema, "size").prefault(value).describe(doc);
}

export function list(value: string[], doc: string) {
  const schema = z.array(z.string({ error: "expected a string" }), { error: "expected a list of strings" });
  return tag(schema, "list").default(value).describe(doc);
}

/** A list whose every entry is one of `values` (each error names its entry); env: comma-separated. */
export function choiceList<const T extends readonly [string, ...string[]]>(
  values: T,
  value: T[number][],
  doc: string,
) {
  return tag(z.array(oneOf(values), { error: "expected a list of strings" }), "list")
    .default(value as Awaited<T[number]>[])
    .describe(doc);
}

export function stringMap(doc: string) {
  const schema = z.record(z.string(), z.string({ error: "expected a string" }), {
    error: "expected a map of names to strings",
  });
  return tag(schema, "map").default({}).describe(doc);
}

export function listMap(doc: string) {
  const schema = z.record(
    z.string(),
    z.array(z.string({ error: "expected a string" }), { error: "expected a list of model names" }),
    { error: "expected a map of names to lists" },
  );
  return tag(schema, "map").default({}).describe(doc);
}

/** A secret string (token, key, password): masked in `olla config` and never logged. */
export function secret(doc: string) {
  return tag(z.string({ error: "expected a string" }), "secret")
    .optional()
    .describe(doc);
}

/** Marks the endpoint list so the env overlay parses it as YAML/JSON rather than a comma list. */
export function endpointList<T extends z.ZodType>(item: T, doc: string) {
  return tag(z.array(item, { error: "expected a list of endpoints" }), "endpoints")
    .default([])
    .describe(doc);
}

/** How a leaf's value reads back in YAML (durations and sizes in their units). */
export function displayValue(kind: LeafKind | undefined, value: unknown): unknown {
  if (typeof value === "number" && kind === "duration") return formatDuration(value);
  if (typeof value === "number" && kind === "size") return formatSize(value);
  return value;
}
