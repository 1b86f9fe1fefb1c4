// The unified catalogue: every endpoint's models merged into one entry per model (same digest, or the
// same name ignoring case), keeping each endpoint's own name, size and loaded state.

import type { Endpoint } from "../endpoints/index.ts";
import type { ListSource } from "./lists.ts";
import type { DiscoveredModel, ModelCapability } from "./model.ts";

export interface UnifiedModel {
  /** The first native name seen: what clients see as the model's id. */
  id: string;
  /** Every native name it goes by across the fleet. */
  aliases: string[];
  family?: string;
  parameterSize?: string;
  quantization?: string;
  type?: "llm" | "vlm" | "embeddings";
  contextLength?: number;
  capabilities: ModelCapability[];
  sources: { endpoint: Endpoint; model: DiscoveredModel }[];
}

export interface CatalogueQuery {
  /** Include models whose endpoints are all down. */
  includeUnavailable?: boolean;
}

export function buildCatalogue(source: ListSource, query: CatalogueQuery = {}): UnifiedModel[] {
  const entries: UnifiedModel[] = [];
  const byDigest = new Map<string, UnifiedModel>();
  const byName = new Map<string, UnifiedModel>();
  for (const endpoint of source.endpoints) {
    if (!query.includeUnavailable && !source.isRoutable(endpoint)) continue;
    for (const model of source.modelsOf(endpoint)) {
      const name = model.name.toLowerCase();
      let entry = (model.digest ? byDigest.get(model.digest) : undefined) ?? byName.get(name);
      if (!entry) {
        entry = { id: model.name, aliases: [], capabilities: [], sources: [] };
        entries.push(entry);
      }
      if (!entry.aliases.includes(model.name)) entry.aliases.push(model.name);
      entry.sources.push({ endpoint, model });
      entry.family ??= model.family;
      entry.parameterSize ??= model.parameterSize;
      entry.quantization ??= model.quantization;
      entry.type ??= model.type;
      if (model.contextLength !== undefined)
        entry.contextLength = Math.max(entry.contextLength ?? 0, model.contextLength);
      for (const capability of model.capabilities) {
        if (!entry.capabilities.includes(capability)) entry.capabilities.push(capability);
      }
      if (model.digest) byDigest.set(model.digest, entry);
      byName.set(name, entry);
    }
  }
  return entries;
}

/** The model type clients filter on: declared, or vision/embeddings from capabilities, else llm. */
export function modelType(model: UnifiedModel): "llm" | "vlm" | "embeddings" {
  if (model.type) return model.type;
  if (model.capabilities.includes("embeddings")) return "embeddings";
  if (model.capabilities.includes("vision")) return "vlm";
  return "llm";
}

/** Finds a model by id or any of its names, ignoring case. */
export function findModel(catalogue: UnifiedModel[], id: string): UnifiedModel | undefined {
  const wanted = id.toLowerCase();
  return catalogue.find((model) => model.aliases.some((alias) => alias.toLowerCase() === wanted));
}
