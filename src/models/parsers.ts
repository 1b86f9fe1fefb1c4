// Reads each platform's model list into DiscoveredModel[]: one small function per wire format, strict
// on the outer shape (a foreign body means a misconfigured endpoint type) and tolerant inside it (one
// odd entry or a missing optional field must not hide the other models).

import type { DiscoveredModel, ModelCapability } from "./model.ts";

/** The body is not the shape this parser reads; the message says what was expected. */
export class ModelListError extends Error {
  override name = "ModelListError";
}

export type ModelListParser = (body: unknown) => DiscoveredModel[];

type Entry = Record<string, unknown>;

const record = (value: unknown): Entry | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Entry) : undefined;
// Servers fill unknown fields with "" or 0 (llama.cpp's Ollama-style list does): treat those as absent.
const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;
const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
const texts = (value: unknown): string[] | undefined => {
  const list = Array.isArray(value) ? value.filter((item): item is string => text(item) !== undefined) : [];
  return list.length > 0 ? list : undefined;
};
// Ollama sends nanoseconds and local offsets; one ISO form keeps comparisons and renderers simple.
const isoDate = (value: unknown): string | undefined => {
  const date = new Date(text(value) ?? NaN);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
};

/** The array under `key` of an object body, or a ModelListError naming the shape expected. */
function listAt(body: unknown, key: string, expected: string): unknown[] {
  const list = record(body)?.[key];
  if (!Array.isArray(list)) throw new ModelListError(`expected ${expected}: an object with a "${key}" array`);
  return list;
}

// Markers that tell a model's kind when the platform does not state it.
const EMBEDDING_FAMILIES = new Set(["bert", "nomic-bert"]);
const VISION_FAMILIES = new Set(["clip", "mllama"]);
const EMBEDDING_NAME = /embed/i;
// "-vl" as in Qwen2-VL-7B, or "2.5vl" as in qwen2.5vl (family qwen25vl), but not inside a word.
const VISION_NAME = /llava|vision|[-_.\d]vl(?![a-z])/i;
/** Capability words platforms declare (llama.cpp models[].capabilities, newer LM Studio), in our terms.
 * A Map, not an object, so a declared "constructor" finds no inherited property. */
const DECLARED: ReadonlyMap<unknown, ModelCapability> = new Map([
  ["chat", "chat"],
  ["completion", "completion"],
  ["embedding", "embeddings"],
  ["embeddings", "embeddings"],
  ["vision", "vision"],
  ["multimodal", "vision"],
  ["tools", "tools"],
  ["tool_use", "tools"],
]);
const ORDER: readonly ModelCapability[] = ["chat", "completion", "embeddings", "vision", "tools"];

interface Hints {
  name: string;
  type?: string;
  families?: string[];
  declared?: unknown;
}

function capabilitiesOf({ name, type, families = [], declared }: Hints): ModelCapability[] {
  const said = (Array.isArray(declared) ? declared : []).flatMap((word) => DECLARED.get(word) ?? []);
  const family = families.map((f) => f.toLowerCase());
  // An embedding model answers nothing else: a chat routed to it would fail.
  if (
    type === "embeddings" ||
    said.includes("embeddings") ||
    EMBEDDING_NAME.test(name) ||
    family.some((f) => EMBEDDING_FAMILIES.has(f))
  ) {
    return ["embeddings"];
  }
  const found = new Set<ModelCapability>(["chat", "completion", ...said]);
  if (
    type === "vlm" ||
    VISION_NAME.test(name) ||
    family.some((f) => VISION_FAMILIES.has(f) || VISION_NAME.test(f))
  ) {
    found.add("vision");
  }
  return ORDER.filter((capability) => found.has(capability));
}

/** Drops absent fields, so a later duplicate can fill them by spreading. */
function compact(model: DiscoveredModel): DiscoveredModel {
  for (const key of Object.keys(model) as (keyof DiscoveredModel)[]) {
    if (model[key] === undefined) delete model[key];
  }
  return model;
}

/** Parses the object entries of a list; entries without a name come back undefined. */
const each = (list: unknown[], parse: (entry: Entry) => DiscoveredModel | undefined) =>
  list.map((item) => {
    const entry = record(item);
    return entry && parse(entry);
  });

/** One model per name, in first-seen order. A repeat (llama.cpp lists each model in both `data` and
 * `models`) only fills what the first lacked, and adds what it knows about capabilities. */
function unique(models: (DiscoveredModel | undefined)[]): DiscoveredModel[] {
  const byName = new Map<string, DiscoveredModel>();
  for (const model of models) {
    if (!model) continue;
    const first = byName.get(model.name);
    if (!first) {
      byName.set(model.name, model);
      continue;
    }
    const all = ORDER.filter((c) => first.capabilities.includes(c) || model.capabilities.includes(c));
    byName.set(model.name, {
      ...model,
      ...first,
      capabilities: all.includes("embeddings") ? ["embeddings"] : all,
    });
  }
  return [...byName.values()];
}

const SCALES: readonly (readonly [number, string])[] = [
  [1e12, "T"],
  [1e9, "B"],
  [1e6, "M"],
  [1e3, "K"],
];

/** "3.2B", "136.7M": parameter counts the way Ollama and LM Studio print them. */
function parameterSize(params: number | undefined): string | undefined {
  if (params === undefined) return undefined;
  const [scale, unit] = SCALES.find(([scale]) => params >= scale) ?? [1, ""];
  return `${Number((params / scale).toFixed(1))}${unit}`;
}

/** Ollama `/api/tags` entry; llama.cpp's `models` array has the same shape, with "" for unknowns. */
function ollamaModel(entry: Entry): DiscoveredModel | undefined {
  const name = text(entry.name) ?? text(entry.model);
  if (!name) return undefined;
  const details = record(entry.details) ?? {};
  const family = text(details.family);
  const families = texts(details.families);
  return compact({
    name,
    digest: text(entry.digest),
    sizeBytes: count(entry.size),
    family,
    families,
    parameterSize: text(details.parameter_size),
    quantization: text(details.quantization_level),
    format: text(details.format),
    capabilities: capabilitiesOf({
      name,
      families: [...(family ? [family] : []), ...(families ?? [])],
      declared: entry.capabilities,
    }),
    modifiedAt: isoDate(entry.modified_at),
  });
}

const LMSTUDIO_TYPES: ReadonlySet<unknown> = new Set(["llm", "vlm", "embeddings"]);

/** LM Studio `/api/v0/models` entry: the platform states type, load state and context. */
function lmstudioModel(entry: Entry): DiscoveredModel | undefined {
  const name = text(entry.id);
  if (!name) return undefined;
  const type = LMSTUDIO_TYPES.has(entry.type) ? (entry.type as DiscoveredModel["type"]) : undefined;
  const family = text(entry.arch);
  const state = text(entry.state);
  return compact({
    name,
    type,
    family,
    publisher: text(entry.publisher),
    format: text(entry.compatibility_type),
    quantization: text(entry.quantization),
    contextLength: count(entry.max_context_length),
    loaded: state === undefined ? undefined : state === "loaded",
    capabilities: capabilitiesOf({
      name,
      type,
      families: family ? [family] : [],
      declared: entry.capabilities,
    }),
  });
}

// "meta-llama/Llama-3.2-3B-Instruct": the Hugging Face organisation is the publisher. Local paths
// ("/models/x", "a/b/c") say nothing about one.
const HF_REPO = /^([\w.-]+)\/[^/]+$/;

/** OpenAI `/v1/models` entry, and the vLLM / SGLang dialect (`max_model_len`, `root`). `created` is
 * skipped: vLLM, SGLang and llama.cpp put the time of the request there, not the model's date. */
function openaiModel(entry: Entry): DiscoveredModel | undefined {
  const name = text(entry.id);
  if (!name) return undefined;
  // vLLM's `root` is the repository the served name stands for (--served-model-name hides it).
  const repo = text(entry.root) ?? name;
  return compact({
    name,
    publisher: HF_REPO.exec(repo)?.[1],
    contextLength: count(entry.max_model_len),
    capabilities: capabilitiesOf({ name }),
  });
}

/** llama.cpp `data[]` entry: `meta` comes from the GGUF file itself. */
function llamacppModel(entry: Entry): DiscoveredModel | undefined {
  const name = text(entry.id);
  if (!name) return undefined;
  const meta = record(entry.meta) ?? {};
  return compact({
    name,
    sizeBytes: count(meta.size),
    parameterSize: parameterSize(count(meta.n_params)),
    contextLength: count(meta.n_ctx_train),
    // llama-server loads nothing but GGUF.
    format: "gguf",
    capabilities: capabilitiesOf({ name }),
  });
}

/** llama-server answers with an OpenAI `data` array, an Ollama-style `models` array, or both. */
function parseLlamacpp(body: unknown): DiscoveredModel[] {
  const root = record(body);
  const [data, models] = [root?.data, root?.models];
  // Either may be missing, but not both, and neither may be anything but an array.
  if (
    (data === undefined && models === undefined) ||
    [data, models].some((l) => l !== undefined && !Array.isArray(l))
  ) {
    throw new ModelListError(
      'expected a llama.cpp model list: an object with a "data" and/or "models" array',
    );
  }
  // `data` first: its meta (read from the GGUF file) is the richer of the two.
  return unique([
    ...each((data as unknown[]) ?? [], llamacppModel),
    ...each((models as unknown[]) ?? [], ollamaModel),
  ]);
}

const parseOpenai: ModelListParser = (body) =>
  unique(each(listAt(body, "data", "an OpenAI-style /v1/models body"), openaiModel));

/** Keyed by a profile's request.response_format: ollama, lmstudio, openai, vllm, llamacpp, sglang. */
export const MODEL_LIST_PARSERS: Readonly<Record<string, ModelListParser>> = Object.freeze({
  ollama: (body) => unique(each(listAt(body, "models", "an Ollama /api/tags body"), ollamaModel)),
  lmstudio: (body) => unique(each(listAt(body, "data", "an LM Studio /api/v0/models body"), lmstudioModel)),
  openai: parseOpenai,
  // vLLM and SGLang differ from OpenAI only by fields the OpenAI parser reads when present.
  vllm: parseOpenai,
  sglang: parseOpenai,
  llamacpp: parseLlamacpp,
});

/** Names of the models an Ollama /api/ps body lists as loaded. */
export function parseOllamaLoaded(body: unknown): Set<string> {
  const names = listAt(body, "models", "an Ollama /api/ps body").map((item) => {
    const entry = record(item);
    return text(entry?.name) ?? text(entry?.model);
  });
  return new Set(names.filter((name) => name !== undefined));
}
