// Settles a `type: auto` endpoint on its real platform: a few concurrent GETs, read against what each
// real server observably answers, most specific platform first.

import type { PlatformProfile } from "../profiles/profile.ts";
import { BUILD } from "../version.ts";
import { resolveEndpointUrl } from "./endpoint.ts";

export interface DetectOptions {
  /** Extra headers (the endpoint's configured headers and auth), sent with every probe. */
  headers: readonly (readonly [string, string])[];
  /** Per probe request. */
  timeoutMs: number;
  /** Default: fetch with proxy:false. */
  fetcher?: (url: URL, init: RequestInit) => Promise<Response>;
  /** The profiles in force; a check whose profile is not in this list is skipped. */
  profiles: readonly PlatformProfile[];
}

export interface Detection {
  profile: PlatformProfile;
  /** Short text for logs, e.g. "GET /api/tags answered an Ollama model list". */
  evidence: string;
}

/** One row of the table: every probe in `paths` answered 2xx and `matches` holds for their bodies. */
interface Check {
  profile: string;
  paths: readonly string[];
  /** Bodies in the order of `paths`: parsed JSON, or the raw text when it is not JSON. */
  matches: (...bodies: unknown[]) => boolean;
  evidence: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The objects in `body[key]`, or none when it is not such a list. */
const list = (body: unknown, key: string): Json[] =>
  isObject(body) && Array.isArray(body[key]) ? body[key].filter(isObject) : [];

const ownedBy = (owner: string) => (body: unknown) => list(body, "data").some((m) => m.owned_by === owner);

// Order matters: the first matching row wins, so a row must come before any row its server also
// satisfies (everyone here answers /v1/models as an OpenAI list; SGLang also sends max_model_len).
const CHECKS: readonly Check[] = [
  {
    profile: "ollama",
    paths: ["/"],
    matches: (body) => typeof body === "string" && body.trim() === "Ollama is running",
    evidence: 'GET / answered "Ollama is running"',
  },
  {
    profile: "ollama",
    paths: ["/api/tags"],
    // llama-server mirrors its /v1/models body on /api/tags (empty digests, plus an OpenAI `data`
    // list), so only a bare `models` list with real digests is Ollama's.
    matches: (body) =>
      isObject(body) &&
      !("data" in body) &&
      list(body, "models").some(
        (m) => typeof m.digest === "string" && m.digest !== "" && isObject(m.details),
      ),
    evidence: "GET /api/tags answered an Ollama model list",
  },
  {
    profile: "lm-studio",
    paths: ["/api/v0/models"],
    matches: (body) =>
      list(body, "data").some((m) => typeof m.state === "string" && typeof m.type === "string"),
    evidence: "GET /api/v0/models listed models with LM Studio's state and type",
  },
  {
    profile: "sglang",
    paths: ["/get_model_info"],
    matches: (body) => isObject(body) && typeof body.model_path === "string",
    evidence: "GET /get_model_info answered SGLang's model info",
  },
  {
    profile: "sglang",
    paths: ["/v1/models"],
    matches: ownedBy("sglang"),
    evidence: 'GET /v1/models listed models owned_by "sglang"',
  },
  {
    profile: "vllm",
    paths: ["/v1/models"],
    matches: ownedBy("vllm"),
    evidence: 'GET /v1/models listed models owned_by "vllm"',
  },
  {
    profile: "vllm",
    paths: ["/v1/models"],
    // Only vLLM (and forks that renamed owned_by) add max_model_len, once SGLang is ruled out above.
    matches: (body) => list(body, "data").some((m) => typeof m.max_model_len === "number"),
    evidence: "GET /v1/models listed models with vLLM's max_model_len",
  },
  {
    profile: "llamacpp",
    paths: ["/v1/models"],
    matches: (body) => list(body, "data").some((m) => isObject(m.meta)) || list(body, "models").length > 0,
    evidence: "GET /v1/models answered in llama-server's style (meta, or a models list beside data)",
  },
  {
    profile: "llamacpp",
    paths: ["/health", "/props"],
    matches: (health, props) =>
      isObject(health) &&
      health.status === "ok" &&
      isObject(props) &&
      ("default_generation_settings" in props || "total_slots" in props),
    evidence: 'GET /health answered {"status":"ok"} and GET /props answered llama-server\'s settings',
  },
  {
    profile: "openai-compatible",
    paths: ["/v1/models"],
    matches: (body) => isObject(body) && body.object === "list" && Array.isArray(body.data),
    evidence: "GET /v1/models answered an OpenAI model list",
  },
];

/** Model lists and status pages are small; anything bigger is not the answer we are looking for. */
const MAX_BODY_BYTES = 1024 * 1024;

const defaultFetcher = (url: URL, init: RequestInit) => fetch(url, { ...init, proxy: false });

/** The body as text, or undefined once it grows past `limit` bytes. */
async function readCapped(response: Response, limit: number): Promise<string | undefined> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString("utf8");
}

/** One GET; undefined when it says nothing (error, timeout, non-2xx, redirect, oversized body). */
async function probe(
  url: URL,
  headers: Headers,
  signal: AbortSignal,
  fetcher: NonNullable<DetectOptions["fetcher"]>,
): Promise<unknown> {
  try {
    // A redirect would take the endpoint's headers (auth) to another host: treat it as no answer.
    const response = await fetcher(url, { headers, signal, redirect: "manual" });
    if (response.status < 200 || response.status >= 300) {
      await response.body?.cancel();
      return undefined;
    }
    const text = await readCapped(response, MAX_BODY_BYTES);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  } catch {
    return undefined;
  }
}

/** Probes `base` and names the platform behind it; undefined when nothing answers like an inference server. */
export async function detectPlatform(base: URL, options: DetectOptions): Promise<Detection | undefined> {
  const checks = CHECKS.flatMap((check) => {
    const profile = options.profiles.find((p) => p.name === check.profile);
    return profile ? [{ ...check, profile }] : [];
  });
  const headers = new Headers({
    "user-agent": `olla-TypeDetector/${BUILD.version}`,
    accept: "application/json, text/plain, */*",
  });
  for (const [name, value] of options.headers) headers.set(name, value);

  // Every probe starts at once, so the whole detection takes about one timeout at worst; the ones
  // still running when a row matches are cancelled.
  const done = new AbortController();
  const signal = AbortSignal.any([done.signal, AbortSignal.timeout(options.timeoutMs)]);
  const fetcher = options.fetcher ?? defaultFetcher;
  const answers = new Map<string, Promise<unknown>>();
  for (const path of new Set(checks.flatMap((check) => check.paths))) {
    answers.set(path, probe(resolveEndpointUrl(base, path), headers, signal, fetcher));
  }

  try {
    for (const check of checks) {
      const bodies = await Promise.all(check.paths.map((path) => answers.get(path)));
      if (bodies.every((body) => body !== undefined) && check.matches(...bodies)) {
        return { profile: check.profile, evidence: check.evidence };
      }
    }
    return undefined;
  } finally {
    done.abort();
  }
}
