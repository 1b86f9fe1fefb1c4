// Model-aware candidates: which endpoints may serve a request for a given model. Endpoints that list
// the model come first (those with it loaded before those that would have to load it); what happens
// when none has it is the routing strategy's call (strict, optimistic, discovery).

import type { Endpoint } from "../endpoints/index.ts";

/** What an endpoint is known to serve: trusted once its model list was fetched (updatedAt is set). The
 * discovery's own per-endpoint entry has this shape, so routing reads it without an object per request. */
export interface EndpointCatalogue {
  /** When the list was last fetched; undefined until it was fetched once. */
  updatedAt?: number;
  /** Model names as listed, and whether each is loaded (undefined when the platform does not say). */
  models: readonly { name: string; loaded?: boolean }[];
}

export type Strategy = "strict" | "optimistic" | "discovery";
export type Fallback = "compatible_only" | "all" | "none";

export interface ModelRoute {
  /** Tiers in order of preference; failover goes through each tier before the next. */
  tiers: Endpoint[][];
  decision: "routed" | "fallback" | "rejected";
  reason: string;
  /** For rejections: 404 (nobody has it) or 503 (only down endpoints have it). */
  status?: 404 | 503;
  /** An endpoint's own name for the model when it differs from the request's (alias, case):
   * the request body is rewritten to it for that endpoint. */
  nameOn: ReadonlyMap<Endpoint, string>;
}

/** Most routes rename nothing: one shared empty map instead of one per request. */
const NO_RENAMES: ReadonlyMap<Endpoint, string> = new Map();

export interface ModelRoutingInput {
  model: string;
  /** Endpoints of the route's scope (all types for /olla/..., one platform for /olla/<provider>/...). */
  inScope: readonly Endpoint[];
  isRoutable: (endpoint: Endpoint) => boolean;
  catalogue: (endpoint: Endpoint) => EndpointCatalogue;
  strategy: Strategy;
  fallback: Fallback;
  /** Whether the endpoint speaks the request's API (for fallback compatible_only). */
  compatible: (endpoint: Endpoint) => boolean;
  /** model_aliases: alias → the backend names it stands for. */
  aliases?: Readonly<Record<string, readonly string[]>>;
  /** Other names the unified catalogue knows this model by (tried when no endpoint lists the name). */
  related?: (model: string) => readonly string[];
}

/** The listed name matching one of `wanted` (in order): exact first, then ignoring case, then an
 * untagged name as its :latest. */
function match(
  wanted: readonly string[],
  catalogue: EndpointCatalogue,
): { name: string; loaded?: boolean } | undefined {
  // Loops, not find() with a closure: this runs for every endpoint on every routed request.
  for (const model of wanted) for (const entry of catalogue.models) if (entry.name === model) return entry;
  const byLowerName = lowerNameIndex(catalogue.models);
  for (const model of wanted) {
    const loose = byLowerName.get(model.toLowerCase());
    if (loose) return loose;
  }
  // As Ollama reads it, a name without a tag is the :latest one ("llama3.2" is "llama3.2:latest").
  for (const model of wanted) {
    if (model.includes(":")) continue;
    const latest = byLowerName.get(`${model.toLowerCase()}:latest`);
    if (latest) return latest;
  }
  return undefined;
}

type Listed = EndpointCatalogue["models"][number];
const lowerNameIndexes = new WeakMap<EndpointCatalogue["models"], ReadonlyMap<string, Listed>>();

/** A model list by lowercase name (the first entry wins, as a scan would), built once per list: a
 * request for a model an endpoint lacks must not lowercase that endpoint's whole list again. */
function lowerNameIndex(models: EndpointCatalogue["models"]): ReadonlyMap<string, Listed> {
  let index = lowerNameIndexes.get(models);
  if (index === undefined) {
    const built = new Map<string, Listed>();
    for (const entry of models) {
      const lower = entry.name.toLowerCase();
      if (!built.has(lower)) built.set(lower, entry);
    }
    lowerNameIndexes.set(models, (index = built));
  }
  return index;
}

/** Where the wanted names are listed: up endpoints by loaded state, unknown lists, down hosts. Each list
 *  is made only when something goes in it (most requests fill one). */
function scan(input: ModelRoutingInput, wanted: readonly string[]) {
  let nameOn: Map<Endpoint, string> | undefined;
  let loadedUp: Endpoint[] | undefined;
  let coldUp: Endpoint[] | undefined;
  let unlisted: Endpoint[] | undefined;
  let hostsDown = 0;
  for (const endpoint of input.inScope) {
    const catalogue = input.catalogue(endpoint);
    const up = input.isRoutable(endpoint);
    if (catalogue.updatedAt === undefined) {
      if (up) (unlisted ??= []).push(endpoint);
      continue;
    }
    const found = match(wanted, catalogue);
    if (!found) continue;
    if (!up) {
      hostsDown++;
      continue;
    }
    if (found.name !== input.model) (nameOn ??= new Map()).set(endpoint, found.name);
    if (found.loaded === false) (coldUp ??= []).push(endpoint);
    else (loadedUp ??= []).push(endpoint);
  }
  return { nameOn: nameOn ?? NO_RENAMES, loadedUp, coldUp, unlisted, hostsDown };
}

// Closures in helpers of their own: one in routeByModel would give every call a scope object.
function otherNames(names: readonly string[], model: string): string[] {
  return names.filter((name) => name !== model);
}

function fallbackPool(input: ModelRoutingInput): Endpoint[] {
  return input.inScope.filter(
    (endpoint) => input.isRoutable(endpoint) && (input.fallback === "all" || input.compatible(endpoint)),
  );
}

export function routeByModel(input: ModelRoutingInput): ModelRoute {
  const alias = input.aliases?.[input.model];
  // An alias stands for its backend names; a name that is also listed as-is still matches first.
  let found = scan(input, alias ? [input.model, ...alias] : [input.model]);
  let unified = false;
  if (!found.loadedUp && !found.coldUp && input.related) {
    // No healthy endpoint lists that name: the unified catalogue may know the same model (same
    // digest) under other names on other endpoints.
    const names = otherNames(input.related(input.model), input.model);
    const other = names.length > 0 ? scan(input, names) : undefined;
    if (other && (other.loadedUp || other.coldUp)) {
      found = other;
      unified = true;
    }
  }
  const { nameOn, loadedUp, coldUp, unlisted, hostsDown } = found;

  if (loadedUp || coldUp) {
    // Endpoints whose lists are unknown go last: they may have it, the listed ones do.
    const tiers: Endpoint[][] = [];
    if (loadedUp) tiers.push(loadedUp);
    if (coldUp) tiers.push(coldUp);
    if (unlisted) tiers.push(unlisted);
    return {
      tiers,
      decision: "routed",
      reason: alias ? "alias_resolved" : unified ? "unified_id" : "model_found",
      nameOn,
    };
  }
  if (unlisted) {
    return { tiers: [unlisted], decision: "routed", reason: "model_list_unknown", nameOn };
  }
  // Olla's reason codes: model_unavailable (only on endpoints that are down), model_not_found.
  const reason = hostsDown > 0 ? "model_unavailable" : "model_not_found";
  if (input.strategy === "optimistic" && input.fallback !== "none") {
    const pool = fallbackPool(input);
    if (pool.length > 0) {
      const fellBack =
        hostsDown > 0 && input.fallback === "all" ? "all_healthy_fallback" : `${reason}_fallback`;
      return { tiers: [pool], decision: "fallback", reason: fellBack, nameOn };
    }
  }
  return { tiers: [], decision: "rejected", reason, status: hostsDown > 0 ? 503 : 404, nameOn };
}

/** Every model name available on routable endpoints in scope (for "not found" messages). */
export function availableModels(
  inScope: readonly Endpoint[],
  isRoutable: (endpoint: Endpoint) => boolean,
  catalogue: (endpoint: Endpoint) => EndpointCatalogue,
): string[] {
  const names = new Set<string>();
  for (const endpoint of inScope) {
    if (!isRoutable(endpoint)) continue;
    for (const model of catalogue(endpoint).models) names.add(model.name);
  }
  return [...names].sort();
}
