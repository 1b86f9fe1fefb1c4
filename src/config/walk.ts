// Walks the zod schema to list its keys: env names, unknown-key warnings and docs come from here.

import { z } from "zod";
import { choicesOf, innerOf, type LeafKind, leafKind } from "./fields.ts";
import { configSchema } from "./schema.ts";

export interface Leaf {
  /** Dotted key path, e.g. "server.request_limits.max_body_size". */
  path: string;
  kind: LeafKind;
  doc: string;
  /** Allowed values of a choice. */
  choices?: readonly string[];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let inner = innerOf(current); inner; inner = innerOf(current)) current = inner;
  return current;
}

export function descriptionOf(schema: z.ZodType): string {
  let current: z.ZodType | undefined = schema;
  while (current) {
    if (current.description) return current.description;
    current = innerOf(current);
  }
  return "";
}

/** The object shape of a schema (through wrappers and union variants), or undefined for leaves. */
export function shapeOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const bare = unwrap(schema);
  if (bare instanceof z.ZodObject) return bare.shape as Record<string, z.ZodType>;
  if (bare instanceof z.ZodDiscriminatedUnion || bare instanceof z.ZodUnion) {
    const merged: Record<string, z.ZodType> = {};
    for (const option of bare.options as z.ZodType[]) Object.assign(merged, shapeOf(option));
    return merged;
  }
  return undefined;
}

/** The schema of one array item (for the endpoint list), or undefined. */
export function itemOf(schema: z.ZodType): z.ZodType | undefined {
  const bare = unwrap(schema);
  return bare instanceof z.ZodArray ? (bare.element as z.ZodType) : undefined;
}

function kindOf(schema: z.ZodType): LeafKind {
  const tagged = leafKind(schema);
  if (tagged) return tagged;
  const bare = unwrap(schema);
  if (bare instanceof z.ZodNumber) return "number";
  if (bare instanceof z.ZodBoolean) return "boolean";
  if (bare instanceof z.ZodArray) return "list";
  if (bare instanceof z.ZodRecord) return "map";
  return "string";
}

function collect(schema: z.ZodType, prefix: string, out: Leaf[]): void {
  const shape = leafKind(schema) ? undefined : shapeOf(schema);
  if (!shape) {
    const choices = choicesOf(schema);
    out.push({
      path: prefix,
      kind: kindOf(schema),
      doc: descriptionOf(schema),
      ...(choices ? { choices } : {}),
    });
    return;
  }
  for (const [key, child] of Object.entries(shape)) collect(child, prefix ? `${prefix}.${key}` : key, out);
}

/** Every leaf key of a schema (defaults to the whole config), in declaration order. */
export function listLeaves(schema: z.ZodType = configSchema): Leaf[] {
  const out: Leaf[] = [];
  collect(schema, "", out);
  return out;
}
