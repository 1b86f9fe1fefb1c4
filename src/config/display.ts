// The effective configuration as a user would write it: durations and sizes in units, secrets masked.

import { stringify } from "yaml";
import type { z } from "zod";
import { displayValue, leafKind } from "./fields.ts";
import { isPlainObject } from "./merge.ts";
import { type Config, configSchema } from "./schema.ts";
import { maskSecrets } from "./secrets.ts";
import { itemOf, shapeOf } from "./walk.ts";

function toDisplay(schema: z.ZodType, value: unknown): unknown {
  const item = itemOf(schema);
  if (item && Array.isArray(value)) return value.map((entry) => toDisplay(item, entry));
  const kind = leafKind(schema);
  const shape = kind ? undefined : shapeOf(schema);
  if (!shape || !isPlainObject(value)) return displayValue(kind, value);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    out[key] = shape[key] ? toDisplay(shape[key], child) : child;
  }
  return out;
}

/** YAML of the effective config with secrets masked, readable back by olla. */
export function renderConfig(config: Config): string {
  return stringify(maskSecrets(toDisplay(configSchema, config)), { lineWidth: 0 });
}
