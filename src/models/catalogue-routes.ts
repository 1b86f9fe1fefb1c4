// /olla/models (the unified catalogue in the format asked for, with filters), /olla/models/{id}
// (ids may contain "/", as Hugging Face names do) and /internal/status/models.

import { conditionalJson } from "../http/conditional-json.ts";
import { errorResponse } from "../http/errors.ts";
import type { Route } from "../http/router.ts";
import { buildCatalogue, findModel, modelType, type UnifiedModel } from "./catalogue.ts";
import { type ListSource, lmstudioModels, ollamaTags, openaiModels } from "./lists.ts";

/** Olla's per-platform formats (each its platform's profile name): the OpenAI list of the models that
 * platform's endpoints serve, with `max_model_len` where the context length is known. */
const PLATFORM_FORMATS = [
  "vllm",
  "sglang",
  "llamacpp",
  "lemonade",
  "lmdeploy",
  "vllm-mlx",
  "docker-model-runner",
];
const FORMATS = ["unified", "openai", "ollama", "lmstudio", ...PLATFORM_FORMATS] as const;
const TYPES = ["llm", "vlm", "embeddings"] as const;

/** Olla's older `capability=` names, read as the type they stand for; other values name a capability. */
const CAPABILITY_TYPES: Record<string, (typeof TYPES)[number]> = {
  vision: "vlm",
  multimodal: "vlm",
  embedding: "embeddings",
  embeddings: "embeddings",
  vector_search: "embeddings",
  chat: "llm",
  text_generation: "llm",
  completion: "llm",
};

/** The catalogue's filters from the query as one test, or the 400 to answer for a value it cannot take. */
function modelFilter(query: URLSearchParams): ((model: UnifiedModel) => boolean) | Response {
  const family = query.get("family")?.toLowerCase();
  const type = query.get("type");
  if (type !== null && !(TYPES as readonly string[]).includes(type)) {
    return errorResponse("openai", 400, `unknown type "${type}"; expected one of ${TYPES.join(", ")}`);
  }
  const capability = query.get("capability")?.toLowerCase();
  const capabilityType = capability === undefined ? undefined : CAPABILITY_TYPES[capability];
  const available = query.get("available");
  if (available !== null && available !== "true" && available !== "false") {
    return errorResponse("openai", 400, `available must be true or false, not "${available}"`);
  }
  return (model) =>
    (!family || model.family?.toLowerCase() === family) &&
    (!type || modelType(model) === type) &&
    (capability === undefined ||
      (capabilityType !== undefined
        ? modelType(model) === capabilityType
        : (model.capabilities as readonly string[]).includes(capability))) &&
    // available=true: ready somewhere without a cold load (loaded, or on a platform that serves all it
    // lists, as vLLM does); false: on every endpoint it would have to be loaded first.
    (available === null ||
      model.sources.some(({ model: native }) => native.loaded !== false) === (available === "true"));
}

function unifiedEntry(model: UnifiedModel, created: number) {
  return {
    id: model.id,
    object: "model",
    created,
    owned_by: "olla",
    olla: {
      family: model.family ?? null,
      parameter_size: model.parameterSize ?? null,
      quantization: model.quantization ?? null,
      type: modelType(model),
      aliases: model.aliases,
      capabilities: model.capabilities,
      max_context_length: model.contextLength ?? null,
      availability: model.sources.map(({ endpoint, model: native }) => ({
        endpoint: endpoint.name,
        name: native.name,
        state: native.loaded === true ? "loaded" : native.loaded === false ? "not-loaded" : "available",
        size: native.sizeBytes ?? null,
      })),
    },
  };
}

export function catalogueRoutes(source: ListSource): Route[] {
  return [
    {
      methods: ["GET"],
      path: "/olla/models",
      handler: (_request, context) => {
        const query = context.url.searchParams;
        const format = query.get("format") ?? "unified";
        if (!(FORMATS as readonly string[]).includes(format)) {
          return errorResponse(
            "openai",
            400,
            `unknown format "${format}"; expected one of ${FORMATS.join(", ")}`,
          );
        }
        const endpointName = query.get("endpoint");
        const keep = modelFilter(query);
        if (keep instanceof Response) return keep;
        const narrowed: ListSource = {
          ...source,
          endpoints: endpointName
            ? source.endpoints.filter((endpoint) => endpoint.name === endpointName)
            : source.endpoints,
        };
        const models = buildCatalogue(narrowed, {
          includeUnavailable: query.get("include_unavailable") === "true",
        }).filter(keep);
        const created = Math.floor(Date.now() / 1000);
        switch (format) {
          case "openai":
            return Response.json(
              openaiModels({ ...narrowed, modelsOf: (endpoint) => pick(models, endpoint) }, () => true),
            );
          case "ollama":
            return Response.json(ollamaTags({ ...narrowed, modelsOf: (endpoint) => pick(models, endpoint) }));
          case "lmstudio":
            return Response.json(
              lmstudioModels({ ...narrowed, modelsOf: (endpoint) => pick(models, endpoint) }),
            );
          case "unified":
            return Response.json({
              object: "list",
              data: models.map((model) => unifiedEntry(model, created)),
            });
          default:
            return Response.json(
              openaiModels(
                { ...narrowed, modelsOf: (endpoint) => pick(models, endpoint) },
                (endpoint) => endpoint.profile.name === format,
                true,
              ),
            );
        }
      },
    },
    {
      methods: ["GET"],
      path: "/olla/models/",
      prefix: true,
      handler: (_request, context) => {
        const raw = context.record.path.slice("/olla/models/".length);
        let id: string;
        try {
          id = decodeURIComponent(raw);
        } catch {
          return errorResponse("openai", 400, `model id ${raw} is not valid percent-encoding`, {
            code: "invalid_model_id",
          });
        }
        const model = findModel(buildCatalogue(source, { includeUnavailable: true }), id);
        if (!model) return errorResponse("openai", 404, `model ${id} not found`, { code: "model_not_found" });
        return Response.json(unifiedEntry(model, Math.floor(Date.now() / 1000)));
      },
    },
    {
      methods: ["GET"],
      path: "/internal/status/models",
      handler: (request) => {
        const models = buildCatalogue(source, { includeUnavailable: true });
        const byFamily: Record<string, string[]> = {};
        for (const model of models) (byFamily[model.family ?? "unknown"] ??= []).push(model.id);
        const withModels = new Set(
          models.flatMap((model) => model.sources.map(({ endpoint }) => endpoint.name)),
        );
        return conditionalJson(request, {
          timestamp: new Date().toISOString(),
          total_models: models.length,
          total_endpoints: withModels.size,
          models_by_family: byFamily,
          models: models.map((model) => unifiedEntry(model, Math.floor(Date.now() / 1000))),
        });
      },
    },
  ];
}

/** The native models of one endpoint that survived the catalogue's filters. */
function pick(models: UnifiedModel[], endpoint: ListSource["endpoints"][number]) {
  return models.flatMap((model) =>
    model.sources.filter((entry) => entry.endpoint === endpoint).map((entry) => entry.model),
  );
}
