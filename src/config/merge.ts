// Layering: each layer's values go over the ones below. Sections merge key by key; lists and maps
// replace wholesale (a file that lists endpoints replaces the default ones), as in Olla (Go).

import type { z } from "zod";
import { leafKind } from "./fields.ts";
import type { ConfigProblem } from "./problems.ts";
import { configSchema, RETIRED_KEYS } from "./schema.ts";
import { closest } from "./suggest.ts";
import { itemOf, shapeOf } from "./walk.ts";

type Raw = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Merges `layer` into `target` in place, noting in `origins` which source set each key path. */
export function mergeLayer(
  target: Raw,
  layer: Raw,
  source: string | ((path: string) => string),
  origins: Map<string, string>,
  schema: z.ZodType = configSchema,
  prefix = "",
): void {
  const shape = shapeOf(schema);
  for (const [key, value] of Object.entries(layer)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const child = shape?.[key];
    const isSection = child !== undefined && !leafKind(child) && shapeOf(child) !== undefined;
    if (isSection && isPlainObject(value)) {
      if (!isPlainObject(target[key])) target[key] = {};
      mergeLayer(target[key] as Raw, value, source, origins, child, path);
      continue;
    }
    target[key] = value;
    for (const known of [...origins.keys()]) if (known.startsWith(`${path}.`)) origins.delete(known);
    origins.set(path, typeof source === "string" ? source : source(path));
  }
}

/** Warnings for keys the schema does not know, with a suggestion when one is close. */
export function unknownKeys(
  layer: unknown,
  source: string,
  schema: z.ZodType = configSchema,
  prefix = "",
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const item = itemOf(schema);
  if (item && Array.isArray(layer)) {
    layer.forEach((entry, index) => {
      problems.push(...unknownKeys(entry, source, item, `${prefix}[${index}]`));
    });
    return problems;
  }
  const shape = leafKind(schema) && !item ? undefined : shapeOf(schema);
  if (!shape || !isPlainObject(layer)) return problems;
  for (const [key, value] of Object.entries(layer)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const child = shape[key];
    if (child) {
      problems.push(...unknownKeys(value, source, child, path));
      continue;
    }
    const retired = RETIRED_KEYS[path.replace(/\[\d+\]/g, "")];
    if (retired) {
      problems.push({ level: "warning", path, source, message: `ignored: ${retired}` });
      continue;
    }
    const guess = closest(key, Object.keys(shape));
    problems.push({
      level: "warning",
      path,
      source,
      message: `unknown key, ignored${guess ? ` (did you mean ${prefix ? `${prefix}.` : ""}${guess}?)` : ""}`,
    });
  }
  return problems;
}

/** The source that set a key path: the longest recorded prefix of it. */
export function originOf(path: string, origins: Map<string, string>): string | undefined {
  for (let probe = path; probe; probe = probe.replace(/(\.[^.[\]]*|\[\d+\])$/, "")) {
    const found = origins.get(probe);
    if (found) return found;
    if (!/[.[]/.test(probe)) break;
  }
  return undefined;
}
