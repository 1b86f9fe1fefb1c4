// Model lists merged across the fleet, in the formats clients read: Ollama's /api/tags and OpenAI's
// /v1/models. Only endpoints that take traffic count; a name served by several endpoints is listed once.

import type { Endpoint } from "../endpoints/index.ts";
import type { DiscoveredModel } from "./model.ts";

export interface ListSource {
  endpoints: readonly Endpoint[];
  isRoutable: (endpoint: Endpoint) => boolean;
  modelsOf: (endpoint: Endpoint) => readonly DiscoveredModel[];
}

/** Unique models (by name, first endpoint wins) on routable endpoints that `accepts`. */
function collect(source: ListSource, accepts: (endpoint: Endpoint) => boolean): DiscoveredModel[] {
  const byName = new Map<string, DiscoveredModel>();
  for (const endpoint of source.endpoints) {
    if (!accepts(endpoint) || !source.isRoutable(endpoint)) continue;
    for (const model of source.modelsOf(endpoint)) if (!byName.has(model.name)) byName.set(model.name, model);
  }
  return [...byName.values()];
}

/** One model as Ollama lists it (the fields /api/tags and /api/ps share). */
function ollamaEntry(model: DiscoveredModel) {
  return {
    name: model.name,
    model: model.name,
    size: model.sizeBytes ?? 0,
    digest: model.digest ?? "",
    details: {
      parent_model: "",
      format: model.format ?? "",
      family: model.family ?? "",
      families: model.families ?? (model.family ? [model.family] : null),
      parameter_size: model.parameterSize ?? "",
      quantization_level: model.quantization ?? "",
    },
  };
}

/** Ollama's /api/tags, from endpoints that speak Ollama's native API (its /api/... paths work there). */
export function ollamaTags(source: ListSource) {
  const models = collect(source, (endpoint) => endpoint.profile.name === "ollama");
  return {
    models: models.map((model) => ({
      ...ollamaEntry(model),
      modified_at: model.modifiedAt ?? new Date(0).toISOString(),
    })),
  };
}

/** OpenAI's /v1/models from the endpoints `accepts` admits (a provider route's scope). */
/** `withContextLength`: each model's context length as vLLM's `max_model_len`, where it is known. */
export function openaiModels(
  source: ListSource,
  accepts: (endpoint: Endpoint) => boolean,
  withContextLength = false,
) {
  const created = Math.floor(Date.now() / 1000);
  const models = collect(source, (endpoint) => endpoint.profile.openaiCompatible && accepts(endpoint));
  return {
    object: "list",
    data: models.map((model) => ({
      id: model.name,
      object: "model",
      created,
      owned_by: model.publisher ?? "olla",
      ...(withContextLength && model.contextLength !== undefined
        ? { max_model_len: model.contextLength }
        : {}),
    })),
  };
}

/** Ollama's /api/ps: the models loaded right now on healthy Ollama endpoints. */
export function ollamaRunning(source: ListSource) {
  const models = collect(source, (endpoint) => endpoint.profile.name === "ollama").filter(
    (model) => model.loaded,
  );
  return {
    models: models.map(ollamaEntry),
  };
}

/** LM Studio's /api/v0/models from healthy LM Studio endpoints. */
export function lmstudioModels(source: ListSource) {
  const models = collect(source, (endpoint) => endpoint.profile.name === "lm-studio");
  return {
    object: "list",
    data: models.map((model) => ({
      id: model.name,
      object: "model",
      type: model.type ?? (model.capabilities.includes("embeddings") ? "embeddings" : "llm"),
      publisher: model.publisher ?? null,
      arch: model.family ?? null,
      compatibility_type: model.format ?? null,
      quantization: model.quantization ?? null,
      state: model.loaded === true ? "loaded" : "not-loaded",
      max_context_length: model.contextLength ?? null,
    })),
  };
}
