// Error responses as each real server writes them: the envelope follows the API family of the path
// (Ollama `{error}`, OpenAI `{error:{message,type,param,code}}`, Anthropic `{type:"error",error}`).
import type { FakeKind } from "./fake-types.ts";

type Family = "ollama" | "openai" | "anthropic";

function familyOf(kind: FakeKind, path: string): Family {
  if (path.startsWith("/v1/messages")) return "anthropic";
  if (kind === "ollama" && !path.startsWith("/v1/")) return "ollama";
  return "openai";
}

const OPENAI_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ["invalid_request_error", null],
  401: ["invalid_request_error", "invalid_api_key"],
  403: ["permission_error", null],
  404: ["invalid_request_error", null],
  429: ["requests", "rate_limit_exceeded"],
};

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  529: "overloaded_error",
};

/** An error in the envelope of the path's API family. */
export function errorResponse(
  kind: FakeKind,
  path: string,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const family = familyOf(kind, path);
  if (family === "ollama") return Response.json({ error: message }, { status, headers });
  if (family === "anthropic") {
    const type = ANTHROPIC_TYPES[status] ?? "api_error";
    return Response.json({ type: "error", error: { type, message } }, { status, headers });
  }
  const [type, code] = OPENAI_TYPES[status] ?? ["server_error", null];
  return Response.json({ error: { message, type, param: null, code } }, { status, headers });
}

/** The real server's answer for a model it does not have. */
export function modelNotFound(kind: FakeKind, path: string, name: unknown): Response {
  const model = typeof name === "string" ? name : "";
  if (path.startsWith("/v1/messages")) {
    return errorResponse(kind, path, 404, `model "${model}" not found`);
  }
  if (kind === "ollama") {
    if (path === "/api/show") return Response.json({ error: `model '${model}' not found` }, { status: 404 });
    const message = `model "${model}" not found, try pulling it first`;
    if (path.startsWith("/api/")) return Response.json({ error: message }, { status: 404 });
    return Response.json(
      { error: { message, type: "not_found_error", param: null, code: null } },
      { status: 404 },
    );
  }
  if (kind === "vllm") {
    const message = `The model \`${model}\` does not exist.`;
    return Response.json(
      { error: { message, type: "NotFoundError", param: "model", code: 404 } },
      { status: 404 },
    );
  }
  const message = `The model \`${model}\` does not exist or you do not have access to it.`;
  return Response.json(
    { error: { message, type: "invalid_request_error", param: "model", code: "model_not_found" } },
    { status: 404 },
  );
}

/** The real server's answer for a path it does not serve. */
export function routeNotFound(kind: FakeKind, method: string, path: string): Response {
  switch (kind) {
    case "ollama":
      return new Response("404 page not found", { status: 404, headers: { "content-type": "text/plain" } });
    case "vllm":
    case "sglang":
      return Response.json({ detail: "Not Found" }, { status: 404 });
    case "llamacpp":
      return Response.json(
        { error: { code: 404, message: "File Not Found", type: "not_found_error" } },
        { status: 404 },
      );
    case "lmstudio":
      return Response.json({ error: `Unexpected endpoint or method. (${method} ${path})` }, { status: 404 });
    case "openai":
      return errorResponse(kind, path, 404, `Invalid URL (${method} ${path})`);
  }
}
