// The route table of each server kind ("METHOD /path" → handler): which health, model-list and
// inference paths the real server answers. Anything else gets the kind's own 404.
import { countTokensRoute, messages } from "./fake-anthropic.ts";
import type { Route, RouteContext, RouteHandler } from "./fake-context.ts";
import { lmstudioV0Models } from "./fake-models.ts";
import * as ollama from "./fake-ollama.ts";
import { chatCompletions, embeddings, listModels, textCompletions } from "./fake-openai.ts";
import type { FakeKind } from "./fake-types.ts";

const probe = (handle: RouteHandler): Route => ({ probe: true, handle });
const infer = (handle: RouteHandler): Route => ({ probe: false, handle });

/** vLLM and SGLang answer `/health` with 200 and an empty body. */
const emptyOk = () => new Response(null, { status: 200 });

const openaiApi: Record<string, Route> = {
  "GET /v1/models": probe(listModels),
  "POST /v1/chat/completions": infer(chatCompletions),
  "POST /v1/completions": infer(textCompletions),
  "POST /v1/embeddings": infer(embeddings),
};

const anthropicApi: Record<string, Route> = {
  "POST /v1/messages": infer(messages),
  "POST /v1/messages/count_tokens": infer(countTokensRoute),
};

function sglangModelInfo(ctx: RouteContext): Response {
  const id = ctx.models()[0]?.id ?? "";
  return Response.json({
    model_path: id,
    tokenizer_path: id,
    is_generation: true,
    preferred_sampling_params: null,
    weight_version: "default",
  });
}

export function routesFor(kind: FakeKind): Record<string, Route> {
  switch (kind) {
    case "ollama":
      return {
        "GET /": probe(ollama.running),
        "GET /api/version": probe(ollama.version),
        "GET /api/tags": probe(ollama.tags),
        "GET /api/ps": probe(ollama.ps),
        "POST /api/show": probe(ollama.show),
        "POST /api/chat": infer(ollama.chat),
        "POST /api/generate": infer(ollama.generate),
        "POST /api/embed": infer(ollama.embed),
        "POST /api/embeddings": infer(ollama.embeddingsLegacy),
        ...openaiApi,
        ...anthropicApi,
      };
    case "openai":
      return { ...openaiApi };
    case "vllm":
      return {
        "GET /health": probe(emptyOk),
        "GET /version": probe(() => Response.json({ version: "0.11.1" })),
        ...openaiApi,
        ...anthropicApi,
      };
    case "sglang":
      return {
        "GET /health": probe(emptyOk),
        "GET /health_generate": probe(emptyOk),
        "GET /get_model_info": probe(sglangModelInfo),
        ...openaiApi,
      };
    case "llamacpp":
      return {
        "GET /health": probe(() => Response.json({ status: "ok" })),
        "GET /v1/health": probe(() => Response.json({ status: "ok" })),
        "GET /models": probe(listModels),
        ...openaiApi,
        ...anthropicApi,
      };
    case "lmstudio":
      return {
        ...openaiApi,
        "GET /api/v0/models": probe((ctx) => Response.json(lmstudioV0Models(ctx.models()))),
        "POST /api/v0/chat/completions": infer(chatCompletions),
        "POST /api/v0/completions": infer(textCompletions),
        "POST /api/v0/embeddings": infer(embeddings),
        ...anthropicApi,
      };
  }
}
