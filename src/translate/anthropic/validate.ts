// Checks a value against a TypeBox schema (compiled once) and, when it fails, names the first bad field the
// way Anthropic does ("messages.1.content.0.source.media_type: ..."), picking the union branch the value
// meant (by its `type`, or array vs string) so the message is about that branch, not "Expected union value".
import { Kind, type Static, type TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { Errors, type ValueError, ValueErrorType } from "@sinclair/typebox/errors";

export interface Checker<T extends TSchema> {
  check(value: unknown): value is Static<T>;
  /** The first problem as `path: message`, or undefined when the value is valid. */
  explain(value: unknown): string | undefined;
}

/** Compiled on first use: ~10 ms for all the translation's schemas, which a server that never sees an
 *  Anthropic request should not pay at startup. */
export function checker<T extends TSchema>(schema: T): Checker<T> {
  let compiled: TypeCheck<T> | undefined;
  const get = () => (compiled ??= TypeCompiler.Compile(schema));
  return {
    check: (value): value is Static<T> => get().Check(value),
    explain(value) {
      const first = get().Errors(value).First();
      return first && describe(first, "");
    },
  };
}

function describe(error: ValueError, prefix: string): string {
  const path = prefix + error.path;
  if (error.type === ValueErrorType.Union) {
    const branch = pickBranch(error.schema, error.value);
    if (branch.schema) {
      const inner = Errors(branch.schema, error.value).First();
      if (inner) return describe(inner, path);
    }
    return `${field(branch.path ? `${path}/${branch.path}` : path)}: ${branch.message}`;
  }
  return `${field(path)}: ${messageFor(error)}`;
}

interface Branch {
  schema?: TSchema;
  /** Sub-path the message is about (e.g. `type` when no branch has that type). */
  path?: string;
  message: string;
}

function pickBranch(union: TSchema, value: unknown): Branch {
  const variants = (union.anyOf ?? []) as TSchema[];
  const literals = variants.filter((v) => v[Kind] === "Literal").map((v) => JSON.stringify(v.const));
  if (literals.length === variants.length) return { message: `must be one of ${literals.join(", ")}` };

  if (Array.isArray(value)) {
    const array = variants.find((v) => v[Kind] === "Array");
    if (array) return { schema: array, message: "" };
  } else if (typeof value === "string") {
    const text = variants.find((v) => v[Kind] === "String");
    if (text) return { schema: text, message: "" };
  } else if (value !== null && typeof value === "object") {
    const tagged = variants.filter((v) => v.properties?.type?.const !== undefined);
    if (tagged.length > 0) {
      const type = (value as { type?: unknown }).type;
      const names = tagged.map((v) => v.properties.type.const as string);
      if (type === undefined) return { path: "type", message: "Field required" };
      const match = tagged.find((v) => v.properties.type.const === type);
      if (match) return { schema: match, message: "" };
      return {
        path: "type",
        message: `unsupported type ${JSON.stringify(type)} (expected one of ${names.join(", ")})`,
      };
    }
    const object = variants.find((v) => v[Kind] === "Object");
    if (object) return { schema: object, message: "" };
  }
  return { message: `expected ${variants.map(kindName).join(" or ")}` };
}

function kindName(schema: TSchema): string {
  if (schema[Kind] === "Literal") return JSON.stringify(schema.const);
  return String(schema[Kind]).toLowerCase();
}

function messageFor(error: ValueError): string {
  const custom = (error.schema as { errorMessage?: string }).errorMessage;
  const base = error.type === ValueErrorType.ObjectRequiredProperty ? "Field required" : error.message;
  return custom ? `${base} (${custom})` : base;
}

/** JSON-pointer path → Anthropic's dotted field name; the root is called `body`. */
function field(pointer: string): string {
  if (pointer === "") return "body";
  return pointer
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}
