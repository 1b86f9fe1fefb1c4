import { describe, expect, test } from "bun:test";
import type { Endpoint } from "../../../src/endpoints/index.ts";
import { type EndpointCatalogue, type ModelRoutingInput, routeByModel } from "../../../src/routing/index.ts";
import { testEndpoint } from "../../support/endpoints.ts";

const a = testEndpoint({ name: "a", url: "http://127.0.0.1:1" });
const b = testEndpoint({ name: "b", url: "http://127.0.0.1:2" });
const c = testEndpoint({ name: "c", url: "http://127.0.0.1:3" });
const down = testEndpoint({ name: "down", url: "http://127.0.0.1:4" }, { status: "offline" });

const lists = new Map<Endpoint, EndpointCatalogue>([
  [a, { updatedAt: 1, models: [{ name: "llama3.2:latest", loaded: false }, { name: "qwen3:4b" }] }],
  [b, { updatedAt: 1, models: [{ name: "llama3.2:latest", loaded: true }] }],
  [c, { models: [] }],
  [down, { updatedAt: 1, models: [{ name: "deepseek-r1:7b" }] }],
]);

function route(model: string, overrides: Partial<ModelRoutingInput> = {}) {
  return routeByModel({
    model,
    inScope: [a, b, c, down],
    isRoutable: (endpoint) => endpoint.status === "healthy",
    catalogue: (endpoint) => lists.get(endpoint) ?? { models: [] },
    strategy: "strict",
    fallback: "compatible_only",
    compatible: () => true,
    ...overrides,
  });
}

const names = (tiers: Endpoint[][]) => tiers.map((tier) => tier.map((endpoint) => endpoint.name));

describe("routeByModel", () => {
  test("loaded hosts first, then cold hosts, then endpoints whose list is unknown", () => {
    const result = route("llama3.2:latest");
    expect(result).toMatchObject({ decision: "routed", reason: "model_found" });
    expect(names(result.tiers)).toEqual([["b"], ["a"], ["c"]]);
  });

  test("names match exactly first, then ignoring case", () => {
    expect(names(route("Qwen3:4B").tiers)).toEqual([["a"], ["c"]]);
  });

  test("a name without a tag is its :latest, as Ollama reads it; the endpoint's name is sent", () => {
    const result = route("Llama3.2");
    expect(result).toMatchObject({ decision: "routed", reason: "model_found" });
    expect(names(result.tiers)).toEqual([["b"], ["a"], ["c"]]);
    expect(result.nameOn.get(b)).toBe("llama3.2:latest");
    // Only :latest: another tag is another model.
    expect(route("qwen3", { inScope: [a, b] }).decision).toBe("rejected");
  });

  test("ignoring case: the first listed spelling wins, and a replaced list is matched afresh", () => {
    const list: EndpointCatalogue = {
      updatedAt: 1,
      models: [{ name: "Mistral:7B" }, { name: "mistral:7b" }],
    };
    const only = { inScope: [a], catalogue: () => list };
    expect(route("MISTRAL:7b", only).nameOn.get(a)).toBe("Mistral:7B");
    // Discovery replaces the list on refresh: the new names count at once.
    list.models = [{ name: "Phi4:Mini" }];
    expect(route("phi4:mini", only).nameOn.get(a)).toBe("Phi4:Mini");
    expect(route("mistral:7b", only).decision).toBe("rejected");
  });

  test("an alias matches any of its names and says which name each endpoint uses", () => {
    const result = route("smart", { aliases: { smart: ["qwen3:4b", "Llama3.2:latest"] }, inScope: [a, b] });
    expect(result.reason).toBe("alias_resolved");
    expect(names(result.tiers)).toEqual([["a", "b"]]);
    expect(result.nameOn.get(a)).toBe("qwen3:4b");
    expect(result.nameOn.get(b)).toBe("llama3.2:latest");
  });

  test("a name no healthy endpoint lists is found under its other names in the unified catalogue", () => {
    const related = (model: string) => (model === "deepseek-r1:7b" ? ["deepseek-r1:7b", "qwen3:4b"] : []);
    const result = route("deepseek-r1:7b", { related, inScope: [a, down] });
    expect(result).toMatchObject({ decision: "routed", reason: "unified_id" });
    expect(names(result.tiers)).toEqual([["a"]]);
    expect(result.nameOn.get(a)).toBe("qwen3:4b");
  });

  test("nobody lists it: endpoints with unknown lists may still have it", () => {
    expect(route("phi4")).toMatchObject({ decision: "routed", reason: "model_list_unknown" });
    expect(names(route("phi4").tiers)).toEqual([["c"]]);
  });

  test("strict: unknown model is a 404, a model only on down endpoints a 503", () => {
    const known = (endpoint: Endpoint) => lists.get(endpoint)!.updatedAt !== undefined;
    const onlyListed = { inScope: [a, b, down].filter(known) };
    expect(route("phi4", onlyListed)).toMatchObject({
      decision: "rejected",
      status: 404,
      reason: "model_not_found",
    });
    expect(route("deepseek-r1:7b", onlyListed)).toMatchObject({
      decision: "rejected",
      status: 503,
      reason: "model_unavailable",
    });
  });

  test("optimistic falls back per fallback_behavior; none rejects", () => {
    const scope = { inScope: [a, b, down], strategy: "optimistic" as const };
    const all = route("phi4", { ...scope, fallback: "all" });
    expect(all.decision).toBe("fallback");
    expect(names(all.tiers)).toEqual([["a", "b"]]);
    const compatible = route("phi4", { ...scope, compatible: (endpoint) => endpoint === b });
    expect(names(compatible.tiers)).toEqual([["b"]]);
    expect(route("phi4", { ...scope, fallback: "none" }).decision).toBe("rejected");
    // Olla's reason codes.
    expect(all.reason).toBe("model_not_found_fallback");
    expect(route("deepseek-r1:7b", { ...scope, fallback: "all" }).reason).toBe("all_healthy_fallback");
    expect(route("deepseek-r1:7b", scope).reason).toBe("model_unavailable_fallback");
  });
});
