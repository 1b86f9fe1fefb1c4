// The one list of configuration keys: every key with its type, default and doc string.
// Env var names, `olla config`, the docs table and validation are all derived from this file.

import { z } from "zod";
import {
  choice,
  choiceList,
  duration,
  endpointList,
  flag,
  int,
  list,
  listMap,
  optionalText,
  positive,
  secret,
  size,
  stringMap,
  text,
} from "./fields.ts";

const PRIVATE_RANGES = [
  "127.0.0.0/8",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "::1/128",
  "fc00::/7",
];

/** Where a sticky session's key can come from (proxy.sticky_sessions.key_sources). */
export const STICKY_KEY_SOURCES = ["session_header", "prefix_hash", "auth_header", "ip"] as const;

const section = <T extends z.core.$ZodLooseShape>(shape: T, doc: string) =>
  z
    .object(shape, { error: "expected a section of keys" })
    .prefault({} as never)
    .describe(doc);

const modelFilter = section(
  {
    include: list([], "Glob patterns of model names to keep (empty keeps all)."),
    exclude: list([], "Glob patterns of model names to drop (applied after include)."),
  },
  "Filter applied to the models discovered on this endpoint.",
);

const AUTH_TYPE_DOC = "How olla authenticates: bearer, api_key or basic.";

const bearerAuth = z.object({
  type: z.literal("bearer").describe(AUTH_TYPE_DOC),
  token: secret("Bearer token; `${ENV_VAR}` is expanded."),
  token_file: optionalText("File holding the bearer token (trimmed)."),
});

const apiKeyAuth = z.object({
  type: z.literal("api_key").describe(AUTH_TYPE_DOC),
  key: secret("API key; `${ENV_VAR}` is expanded."),
  key_file: optionalText("File holding the API key (trimmed)."),
  header: text("X-Api-Key", "Header that carries the key."),
});

const basicAuth = z.object({
  type: z.literal("basic").describe(AUTH_TYPE_DOC),
  username: secret("User name; `${ENV_VAR}` is expanded."),
  username_file: optionalText("File holding the user name (trimmed)."),
  password: secret("Password; `${ENV_VAR}` is expanded."),
  password_file: optionalText("File holding the password (trimmed)."),
});

export const authSchema = z
  .discriminatedUnion("type", [bearerAuth, apiKeyAuth, basicAuth], {
    error: "expected auth.type to be one of bearer, api_key, basic",
  })
  .optional()
  .describe("Credentials olla sends to this endpoint (bearer, api_key or basic).");

export const endpointSchema = z.object(
  {
    url: z
      .string({ error: "expected the endpoint's base URL, e.g. http://localhost:11434" })
      .describe("Base URL."),
    name: optionalText("Unique display name (defaults to host:port)."),
    type: text("auto", "Platform type (ollama, lm-studio, vllm, llamacpp, openai-compatible, ...) or auto."),
    priority: int(50, "Higher wins with the priority balancer.", { min: 0 }),
    weight: positive(1, "Relative share of traffic within a priority tier."),
    enabled: flag(true, "Set false to keep the entry but send it nothing."),
    preserve_path: flag(false, "Join request paths onto the URL's path instead of replacing it."),
    health_check_url: optionalText("Health probe path or URL (defaults to the type's profile)."),
    model_url: optionalText("Model list path or URL (defaults to the type's profile)."),
    check_interval: duration("5s", "Time between health probes.", { min: "1s" }),
    check_timeout: duration("2s", "Timeout of one health probe.", { max: "30s" }),
    model_filter: modelFilter,
    auth: authSchema,
    headers: stringMap("Extra headers sent to this endpoint; `${ENV_VAR}` is expanded."),
  },
  { error: "expected an endpoint (a map with at least url)" },
);

export const configSchema = z.object({
  server: section(
    {
      host: text("localhost", "Address to listen on (0.0.0.0 for all interfaces)."),
      port: int(40114, "Port to listen on (0 picks a free one).", { min: 0, max: 65535 }),
      read_timeout: duration(
        "30s",
        "Longest a client may take to send its request body (408 after; 0 = none).",
      ),
      read_header_timeout: duration(
        "10s",
        "Time to send a request head. Bun enforces a fixed 10 s (silent or trickling clients alike); other values warn.",
      ),
      write_timeout: duration(
        "0s",
        "Longest time from a request's arrival to the end of its answer, streams included (0 = off; keep 0 for long streams).",
      ),
      idle_timeout: duration(
        "0s",
        "Idle keep-alive client connections close after this (0 = read_timeout; ≤255s).",
        {
          max: "255s",
        },
      ),
      shutdown_timeout: duration("10s", "On SIGTERM/SIGINT, how long in-flight requests may finish."),
      request_logging: flag(true, "Write one access-log line per request."),
      request_stats: flag(
        true,
        "Keep per endpoint/model statistics and request metrics (/internal/stats, /internal/metrics).",
      ),
      request_limits: section(
        {
          max_body_size: size("100MiB", "Largest request body accepted (413 above; 0 = no limit)."),
          max_header_size: size("1MiB", "Largest request header block accepted (431 above).", { min: 4096 }),
        },
        "Request size limits.",
      ),
      rate_limits: section(
        {
          global_requests_per_minute: int(1000, "Requests per minute across all clients (0 = off).", {
            min: 0,
          }),
          per_ip_requests_per_minute: int(100, "Requests per minute per client IP (0 = off).", { min: 0 }),
          health_requests_per_minute: int(
            1000,
            "Requests per minute per client to olla's own routes: /internal/*, /version, the dashboard (0 = off).",
            {
              min: 0,
            },
          ),
          burst_size: int(
            50,
            "Requests a client may send at once above its steady rate (0 = a minute's allowance at once).",
            { min: 0 },
          ),
          cleanup_interval: duration("5m", "How often idle rate-limit buckets are swept."),
          trust_proxy_headers: flag(
            false,
            "Take the client IP from X-Forwarded-For / X-Real-IP of trusted proxies.",
          ),
          trusted_proxy_cidrs: list(PRIVATE_RANGES, "Peers whose forwarding headers are trusted."),
          store: text(
            "memory",
            "Where buckets live: memory, or redis://[user:password@]host:port[/db] to share limits across replicas.",
          ),
        },
        "Rate limiting.",
      ),
      auth: section(
        {
          api_keys: list(
            [],
            "Keys clients must send (Bearer or x-api-key) on /olla/ routes; `${ENV_VAR}` is expanded.",
          ),
          api_keys_file: optionalText("File with one client API key per line (# comments allowed)."),
        },
        "Client API keys (off while no key is set).",
      ),
      cors: section(
        {
          enabled: flag(false, "Answer CORS preflights and add CORS headers."),
          allowed_origins: list(["*"], "Origins allowed to call olla from a browser."),
          allowed_methods: list(["GET", "POST", "OPTIONS"], "Methods allowed in CORS requests."),
          allowed_headers: list(["*"], "Request headers allowed in CORS requests."),
          exposed_headers: list([], "Response headers exposed to browsers (empty = the X-Olla-* headers)."),
          allow_credentials: flag(false, "Allow credentialed CORS requests (not with origin *)."),
          max_age: int(300, "Seconds a browser may cache a preflight answer.", { min: 0 }),
        },
        "Cross-origin (browser) access.",
      ),
    },
    "The HTTP server olla listens with.",
  ),
  proxy: section(
    {
      engine: choice(
        ["olla", "sherpa"],
        "olla",
        "olla: pooled HTTP/1.1 client (fast); sherpa: Bun fetch (simple).",
      ),
      load_balancer: choice(
        ["priority", "round_robin", "least_connections"],
        "priority",
        "How an endpoint is chosen among the healthy candidates.",
        {
          "round-robin": "round_robin",
          roundrobin: "round_robin",
          "least-connections": "least_connections",
          least_conn: "least_connections",
          "least-conn": "least_connections",
        },
      ),
      connection_timeout: duration(
        "60s",
        "Longest wait to connect to an endpoint (engine olla; sherpa's fetch has no connect timeout of its own, response_header_timeout bounds it).",
      ),
      connection_keep_alive: duration("30s", "TCP keep-alive period for endpoint connections (engine olla)."),
      response_header_timeout: duration("5m", "Longest wait for response headers (covers cold model loads)."),
      read_timeout: duration("10m", "Longest quiet gap between body chunks while streaming (0 = off)."),
      response_timeout: duration("15m", "Longest a whole proxied response may take (0 = off)."),
      tls_handshake_timeout: duration(
        "10s",
        "Longest TLS handshake with an endpoint (engine olla; sherpa: response_header_timeout bounds it).",
      ),
      stream_buffer_size: size(0, "Read buffer per stream (0 = engine default: olla 64KiB, sherpa 8KiB)."),
      circuit_breaker: section(
        {
          failure_threshold: int(5, "Consecutive failed requests that take an endpoint out (0 = never).", {
            min: 0,
          }),
          open_duration: duration("30s", "How long it stays out before one trial request is let through."),
        },
        "Per-endpoint circuit breaker on proxied requests (connection failures, resets, header timeouts).",
      ),
      max_idle_conns: int(100, "Idle upstream connections kept per endpoint (engine olla).", { min: 0 }),
      max_conns_per_host: int(
        50,
        "Connections per endpoint before requests queue (engine olla; 0 = no cap).",
        {
          min: 0,
        },
      ),
      idle_conn_timeout: duration("90s", "Idle upstream connections close after this (engine olla)."),
      profile_filter: section(
        {
          include: list([], "Profile names (globs) to load; empty loads all."),
          exclude: list([], "Profile names (globs) to skip."),
        },
        "Which platform profiles are loaded.",
      ),
      sticky_sessions: section(
        {
          enabled: flag(
            false,
            "Send a conversation back to the endpoint that served it (its KV cache still holds the prefix).",
          ),
          idle_ttl_seconds: int(
            600,
            "Seconds a session's pin lasts unused (each request restarts it; 0 = no limit).",
            {
              min: 0,
            },
          ),
          max_sessions: int(10000, "Pins kept at most; the least recently used makes room.", { min: 1 }),
          key_sources: choiceList(
            STICKY_KEY_SOURCES,
            ["session_header", "prefix_hash", "auth_header"],
            "Where a session's key comes from, first that gives one wins: session_header (X-Olla-Session-ID), prefix_hash (start of messages/prompt), auth_header (hash of Authorization), ip (client IP). Keys are per model.",
          ),
          prefix_hash_bytes: int(512, "Bytes of the messages (or prompt) JSON that prefix_hash hashes.", {
            min: 1,
          }),
        },
        "Session affinity (KV-cache reuse) among the endpoints model routing allows.",
      ),
    },
    "How requests are forwarded.",
  ),
  discovery: section(
    {
      type: choice(["static"], "static", "Where endpoints come from."),
      static: section(
        { endpoints: endpointList(endpointSchema, "The inference servers olla balances across.") },
        "Endpoints listed in this file.",
      ),
      health_check: section(
        {
          max_backoff: duration(
            "60s",
            "Longest wait between probes of a failing endpoint (the wait doubles up to it).",
          ),
          max_concurrent: int(4, "Health probes running at once.", { min: 1 }),
          circuit_breaker: section(
            {
              failure_threshold: int(3, "Consecutive failed probes that pause probing (0 = never).", {
                min: 0,
              }),
              open_duration: duration("30s", "How long probing pauses before one half-open probe decides."),
            },
            "Health circuit breaker: stops hammering a dead endpoint.",
          ),
        },
        "How endpoints are probed (each endpoint's interval and timeout are set on the endpoint).",
      ),
      model_discovery: section(
        {
          enabled: flag(true, "Ask endpoints which models they serve."),
          interval: duration("5m", "Time between model discovery runs.", { min: "1s" }),
          timeout: duration("30s", "Timeout of one model list request.", { min: "1ms" }),
          concurrent_workers: int(5, "Endpoints queried at once.", { min: 1 }),
          retry_attempts: int(3, "Retries of a failed ask before the next run (0 = none).", { min: 0 }),
          retry_backoff: duration("1s", "Wait before the first retry; each further one waits twice as long."),
        },
        "Model discovery.",
      ),
    },
    "Endpoints and model discovery.",
  ),
  model_registry: section(
    {
      type: choice(["memory"], "memory", "Where the model catalogue is kept."),
      enable_unifier: flag(true, "Merge models across endpoints into one catalogue."),
      routing_strategy: section(
        {
          type: choice(
            ["strict", "optimistic", "discovery"],
            "strict",
            "What happens when no endpoint has the model.",
          ),
          options: section(
            {
              fallback_behavior: choice(
                ["compatible_only", "all", "none"],
                "compatible_only",
                "optimistic: which endpoints to fall back to.",
              ),
              discovery_timeout: duration("2s", "discovery: longest wait for a refresh on a miss."),
              discovery_refresh_on_miss: flag(
                false,
                "strict/optimistic: also ask the endpoints again on a miss.",
              ),
            },
            "Strategy options.",
          ),
        },
        "Model-aware routing.",
      ),
      unification: section(
        {
          stale_threshold: duration("24h", "Drop models not seen for this long."),
          cleanup_interval: duration("10m", "How often stale models are dropped."),
        },
        "Catalogue housekeeping.",
      ),
    },
    "The model catalogue.",
  ),
  model_aliases: listMap("Alias → backend model names; a request for the alias goes to any of them."),
  translators: section(
    {
      anthropic: section(
        {
          enabled: flag(true, "Serve the Anthropic Messages API at /olla/anthropic/v1/messages."),
          passthrough_enabled: flag(true, "Forward as-is to endpoints that speak Anthropic natively."),
          max_message_size: size(
            "10MiB",
            "Largest Anthropic request body (413 above); server.request_limits.max_body_size holds too (0 = only that one).",
          ),
          inspector: section(
            {
              enabled: flag(false, "Write translated requests/responses to files (debugging only)."),
              output_dir: text("logs/inspector/anthropic", "Where inspector files go."),
              session_header: text("X-Session-ID", "Header that names the session file."),
            },
            "Translation inspector.",
          ),
        },
        "Anthropic Messages API.",
      ),
    },
    "API translators.",
  ),
  logging: section(
    {
      level: choice(["debug", "info", "warn", "error"], "info", "Lowest level written.", { warning: "warn" }),
      format: choice(
        ["json", "text", "pretty"],
        "json",
        "json, text (logfmt) or pretty (coloured on a terminal).",
      ),
      output: choice(["stdout", "stderr", "file"], "stdout", "Where logs go."),
      file: text("logs/olla.log", "Log file when output is file."),
    },
    "Logging.",
  ),
  engineering: section(
    { show_nerdstats: flag(false, "Log runtime statistics (memory, uptime, requests) at shutdown.") },
    "Diagnostics.",
  ),
  dashboard: section(
    {
      enabled: flag(true, "Serve the admin dashboard at /internal/ui/."),
      access_policy: section(
        {
          allowed_cidrs: list(["127.0.0.0/8", "::1/128"], "Client networks allowed to open the dashboard."),
          allowed_hosts: list(["localhost"], "Host header values allowed to open the dashboard."),
        },
        "Who may open the dashboard.",
      ),
      gate_internal_api: flag(false, "Apply the dashboard access policy to /internal/* too."),
    },
    "The admin dashboard.",
  ),
});

export type Config = z.output<typeof configSchema>;
export type EndpointConfig = z.output<typeof endpointSchema>;
export type EndpointAuth = NonNullable<EndpointConfig["auth"]>;

/** Keys Olla (Go) accepted that have no effect here; a user setting one is told why, not just "unknown". */
export const RETIRED_KEYS: Record<string, string> = {
  "proxy.max_retries": "deprecated in Olla too: failover tries every candidate once",
  "proxy.retry_backoff": "deprecated in Olla too: failover is immediate",
  "proxy.retry": "failover on connection errors is always on and tries every candidate once",
  "discovery.health_check.initial_delay": "the first probes run at once, before olla starts listening",
  "server.rate_limits.per_endpoint": "not supported; limits apply per client IP and globally",
  "proxy.profile": "olla passes every chunk on as it arrives (Olla's streaming profile) for every answer",
  "discovery.refresh_interval": "endpoints are read at start-up; restart olla to change them",
};

/** Keys accepted now whose behaviour lands in a later release: setting one says so at start-up. */
export const NOT_YET_ACTIVE: Record<string, string> = {
  "model_registry.unification": "models leave the catalogue as soon as their endpoint stops listing them",
};

/** The NOT_YET_ACTIVE section a key path lies in (the section itself or a key under it), if any. */
export function notYetActiveSection(path: string): string | undefined {
  return Object.keys(NOT_YET_ACTIVE).find((section) => path === section || path.startsWith(`${section}.`));
}
