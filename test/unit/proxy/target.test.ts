import { describe, expect, test } from "bun:test";
import { PROFILES } from "../../../src/profiles/index.ts";
import { resolveRoute } from "../../../src/proxy/handler.ts";
import { cleanPath, upstreamPath } from "../../../src/proxy/target.ts";
import { testEndpoint } from "../../support/endpoints.ts";

describe("cleanPath", () => {
  test.each([
    ["/v1/chat/completions", "/v1/chat/completions"],
    ["/v1/../../etc/passwd", "/etc/passwd"],
    ["/%2e%2e/%2E%2E/secret", "/secret"],
    ["//v1///models", "/v1/models"],
    // A `..` beside an encoded slash or backslash climbs for a server that decodes them: resolved here.
    ["/v1/..%2f..%2fsecret", "/secret"],
    ["/v1/%2e%2e%2Fsecret", "/secret"],
    ["/v1/a/..%5cb", "/v1/b"],
    // Other encoded slashes are an id's own (Hugging Face names): kept.
    ["/v1/models/meta-llama%2FLlama-3.2-3B", "/v1/models/meta-llama%2FLlama-3.2-3B"],
    ["/v1/models/a%2F..b", "/v1/models/a%2F..b"],
    ["/./api/./tags", "/api/tags"],
    ["/api/", "/api/"],
    ["", "/"],
    ["/..", "/"],
  ])("%s → %s", (raw, clean) => {
    expect(cleanPath(raw)).toBe(clean);
  });
});

describe("upstreamPath", () => {
  test("the request path replaces the endpoint's path by default", () => {
    const endpoint = testEndpoint({ url: "http://10.0.0.5:8000/api/v1" });
    expect(upstreamPath(endpoint, "/v1/chat", "?a=1")).toBe("/v1/chat?a=1");
  });

  test("preserve_path joins it under the endpoint's path", () => {
    const endpoint = testEndpoint({ url: "http://10.0.0.5:8000/api/v1/", preserve_path: true });
    expect(upstreamPath(endpoint, "/v1/chat", "")).toBe("/api/v1/v1/chat");
  });
});

describe("resolveRoute", () => {
  test.each([
    ["/olla/v1/chat/completions", "any", "/v1/chat/completions"],
    ["/olla/api/chat", "any", "/api/chat"],
    ["/olla/proxy/v1/models", "any", "/v1/models"],
    ["/olla/ollama/api/generate", "ollama", "/api/generate"],
    ["/olla/lmstudio/v1/models", "lm-studio", "/v1/models"],
    ["/olla/lm_studio/v1/models", "lm-studio", "/v1/models"],
    ["/olla/lm-studio/api/v0/models", "lm-studio", "/api/v0/models"],
    ["/olla/vllm/v1/completions", "vllm", "/v1/completions"],
    ["/olla/openai/v1/embeddings", "openai-compatible", "/v1/embeddings"],
    ["/olla/ollama/../../secret", "ollama", "/secret"],
    ["/olla/ollama", "ollama", "/"],
  ])("%s → %s %s", (pathname, scope, path) => {
    const route = resolveRoute(pathname, PROFILES);
    // No platform named: any will do.
    expect(route.scope.label ?? "any").toBe(scope);
    expect(route.path).toBe(path);
  });

  test("a provider scope admits only its own type", () => {
    const ollama = testEndpoint({ type: "ollama" });
    const vllm = testEndpoint({ type: "vllm", url: "http://127.0.0.1:2" });
    expect(resolveRoute("/olla/ollama/api/chat", PROFILES).scope.accepts(vllm)).toBe(false);
    expect(resolveRoute("/olla/ollama/api/chat", PROFILES).scope.accepts(ollama)).toBe(true);
    expect(resolveRoute("/olla/vllm/v1/models", PROFILES).scope.accepts(ollama)).toBe(false);
    expect(resolveRoute("/olla/v1/models", PROFILES).scope.accepts(vllm)).toBe(true);
  });

  test("openai and openai-compatible admit every endpoint that speaks the OpenAI API, as in Olla", () => {
    const vllm = testEndpoint({ type: "vllm", url: "http://127.0.0.1:2" });
    const generic = testEndpoint({ type: "openai", url: "http://127.0.0.1:3" });
    // A platform without an OpenAI API (every shipped profile has one).
    const notOpenai = testEndpoint({ type: "ollama", url: "http://127.0.0.1:4" });
    notOpenai.profile = { ...notOpenai.profile, name: "native-only", openaiCompatible: false };
    for (const prefix of ["openai", "openai-compatible"]) {
      const scope = resolveRoute(`/olla/${prefix}/v1/chat/completions`, PROFILES).scope;
      expect(scope.accepts(vllm)).toBe(true);
      expect(scope.accepts(generic)).toBe(true);
      expect(scope.accepts(notOpenai)).toBe(false);
    }
  });
});
