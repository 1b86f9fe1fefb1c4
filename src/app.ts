// Composition root: builds every service from the configuration, starts and stops them in order.
// Endpoints are probed once before the listener opens, so the first request sees real health.

import type { Config } from "./config/index.ts";
import {
  applyProfile,
  createEndpoint,
  detectPlatform,
  createHealthScheduler,
  type Endpoint,
  endpointsSnapshot,
  fleetVerdict,
  type HealthScheduler,
  isRoutable,
  type ProbeResult,
  probeEndpoint,
  statusSnapshot,
  timeAgo,
} from "./endpoints/index.ts";
import {
  apiFamily,
  createCors,
  createGuard,
  createRouter,
  type HttpServer,
  internalRoutes,
  startHttpServer,
  systemRoutes,
} from "./http/index.ts";
import {
  allowList,
  apiKeyGuard,
  clientIp,
  compileCidrs,
  createRateLimiter,
  createRedisBuckets,
  createSharedRateLimiter,
  createViolations,
  type RateLimiter,
  type SharedRateLimiter,
  type StoreStatus,
} from "./limits/index.ts";
import { createInspector, type Logger, writeAccessLog } from "./log/index.ts";
import { AUTO_PROFILE, type PlatformProfile } from "./profiles/profile.ts";
import { dashboardRoutes } from "./dashboard/index.ts";
import { createUpstreamClient } from "./proxy/engine.ts";
import type { UpstreamClient } from "./proxy/upstream/index.ts";
import { anthropicRoutes } from "./proxy/anthropic-routes.ts";
import { type ProxyDeps, proxyRoutes } from "./proxy/handler.ts";
import { createModelDiscovery, type ModelDiscovery } from "./models/discovery.ts";
import { buildCatalogue, findModel } from "./models/catalogue.ts";
import { catalogueRoutes } from "./models/catalogue-routes.ts";
import { modelListRoutes } from "./models/list-routes.ts";
import { modelManagementRoutes } from "./proxy/model-management.ts";
import { createBalancer, createStickySessions } from "./routing/index.ts";
import { createMetrics } from "./stats/metrics.ts";
import { monitorEventLoop, processSnapshot } from "./stats/process.ts";
import { createRequestStats, tallyJson } from "./stats/request-stats.ts";
import { createTranslatorStats } from "./stats/translator-stats.ts";
import type { RequestRecord } from "./http/router.ts";
import { BUILD } from "./version.ts";

export interface App {
  server: HttpServer;
  endpoints: readonly Endpoint[];
  health: HealthScheduler;
  /** The upstream client of proxy.engine, which every proxied request is sent with. */
  upstream: UpstreamClient;
  /** Graceful stop: in-flight requests get up to server.shutdown_timeout to finish. */
  stop(): Promise<{ drained: boolean }>;
}

/** Features this build serves; reported by /version. */
export const CAPABILITIES = [
  "layered_config",
  "graceful_shutdown",
  "structured_logging",
  "streaming_proxy",
  "failover",
  "health_checking",
  "circuit_breakers",
  "load_balancing",
  "status_api",
  "endpoint_type_detection",
  "model_discovery",
  "model_routing",
  "cors",
  "request_stats",
  "prometheus_metrics",
  "access_log",
  "rate_limiting",
  "client_api_keys",
  "dashboard",
  "anthropic_messages",
  "sticky_sessions",
] as const;

/** Stats memory bounds: models tracked at once, and how long an unused model's entry is kept. */
const STATS_MAX_MODELS = 500;
const STATS_MODEL_IDLE_MS = 60 * 60 * 1000;

export async function startApp(
  config: Config,
  logger: Logger,
  profiles: readonly PlatformProfile[],
): Promise<App> {
  const breaker = {
    failureThreshold: config.proxy.circuit_breaker.failure_threshold,
    openMs: config.proxy.circuit_breaker.open_duration,
  };
  const endpoints = config.discovery.static.endpoints
    .filter((entry) => entry.enabled)
    .map((entry) => createEndpoint(entry, profiles, breaker));
  // type: auto endpoints are probed for their platform until one answers; then they probe as that type.
  const undetected = new Set<Endpoint>();
  const probe = async (endpoint: Endpoint): Promise<ProbeResult> => {
    if (endpoint.profile === AUTO_PROFILE) {
      const found = await detectPlatform(endpoint.url, {
        headers: endpoint.headers,
        timeoutMs: endpoint.checkTimeoutMs,
        profiles,
      });
      if (!found) {
        if (!undetected.has(endpoint)) {
          undetected.add(endpoint);
          logger.warn("endpoint type not detected yet", { endpoint: endpoint.name });
        }
        return { status: "offline", latencyMs: 0, error: "type: auto, and no inference server answered" };
      }
      applyProfile(endpoint, found.profile);
      logger.info("endpoint type detected", {
        endpoint: endpoint.name,
        type: found.profile.name,
        evidence: found.evidence,
      });
    }
    return probeEndpoint(endpoint);
  };

  const stats = createRequestStats({ maxModels: STATS_MAX_MODELS, modelIdleMs: STATS_MODEL_IDLE_MS });
  const metrics = createMetrics();
  const pruneTimer = setInterval(() => stats.prune(), 5 * 60 * 1000);
  pruneTimer.unref();
  const collect = config.server.request_stats;
  const onRequestEnd = (record: RequestRecord) => {
    const durationMs = record.endedAt - record.started;
    // The answer as the client got it: an endpoint's 4xx/5xx passed through, or olla's own.
    if (record.status >= 400) record.failure ??= `http_${Math.floor(record.status / 100)}xx`;
    if (config.server.request_logging) writeAccessLog(logger, record, durationMs);
    if (!collect) return;
    // Endpoints that failed before the one that answered (failover): each counts its failure.
    for (const attempt of record.attempts ?? [])
      stats.failedOver(attempt.endpoint, record.model, attempt.failure);
    if (record.endpoint !== undefined) {
      stats.finish(record.endpoint, record, durationMs);
    } else if (record.path.startsWith("/olla/")) {
      stats.rejected(record.model, record.failure ?? "rejected");
    }
    if (record.path.startsWith("/olla/")) {
      metrics.request({
        endpoint: record.endpoint ?? "none",
        model: record.model ?? "",
        status: record.status,
        family: apiFamily(record.path),
        durationMs,
        ttftMs: record.ttftMs,
        usage: record.usage,
      });
    }
  };

  const limits = startRateLimits(config, logger.child({ component: "rate_limits" }));
  // Counted on refusals only (429, 413): nothing per request that passes.
  const violations = createViolations();
  const keys = apiKeyGuard(config.server.auth.api_keys);
  const trusted = compileCidrs(config.server.rate_limits.trusted_proxy_cidrs);
  const trustProxyHeaders = config.server.rate_limits.trust_proxy_headers;
  // One options object for every request's clientIp call.
  const ipOptions = { trustProxyHeaders, trustedCidrs: trusted };
  // One matcher for the dashboard and, when gated, the /internal API.
  const dashboardNetworks = allowList(config.dashboard.access_policy.allowed_cidrs);
  const guard = createGuard({
    rateLimit: limits?.limiter ? (kind, ip) => limits.limiter.check(kind, ip) : undefined,
    apiKeys: keys.enabled ? keys : undefined,
    internalAllowed: config.dashboard.gate_internal_api ? dashboardNetworks : undefined,
    onLimited: (scope, ip) => {
      metrics.rateLimited(scope);
      violations.rateLimited(ip);
    },
  });

  const stickyConfig = config.proxy.sticky_sessions;
  const sticky = stickyConfig.enabled
    ? createStickySessions({
        idleTtlSeconds: stickyConfig.idle_ttl_seconds,
        maxSessions: stickyConfig.max_sessions,
        keySources: stickyConfig.key_sources,
        prefixHashBytes: stickyConfig.prefix_hash_bytes,
      })
    : undefined;

  const healthConfig = config.discovery.health_check;
  const health = createHealthScheduler({
    endpoints,
    probe: async (endpoint) => {
      const result = await probe(endpoint);
      metrics.healthCheck(endpoint.name, result.latencyMs / 1000);
      return result;
    },
    logger: logger.child({ component: "health" }),
    backoffCapMs: healthConfig.max_backoff,
    maxConcurrent: healthConfig.max_concurrent,
    breakerThreshold: healthConfig.circuit_breaker.failure_threshold,
    breakerOpenMs: healthConfig.circuit_breaker.open_duration,
    // A node that comes back may have different models loaded now.
    onRecovered: (endpoint) => void discovery?.refresh(endpoint),
    // Pins to a node that left rotation would only cost a repin each: drop them now.
    onDown: sticky
      ? (endpoint) => {
          const purged = sticky.purge(isRoutable);
          if (purged > 0)
            logger.info("sticky sessions purged", { endpoint: endpoint.name, sessions: purged });
        }
      : undefined,
  });
  const discoveryConfig = config.discovery.model_discovery;
  const discovery = discoveryConfig.enabled
    ? createModelDiscovery({
        endpoints,
        intervalMs: discoveryConfig.interval,
        timeoutMs: discoveryConfig.timeout,
        workers: discoveryConfig.concurrent_workers,
        retryAttempts: discoveryConfig.retry_attempts,
        retryBackoffMs: discoveryConfig.retry_backoff,
        logger: logger.child({ component: "discovery" }),
        isRoutable,
      })
    : undefined;
  await health.start();
  await discovery?.start();

  const client = createUpstreamClient(config.proxy);
  const catalogueSource = (found: ModelDiscovery) => ({
    endpoints,
    isRoutable,
    modelsOf: (endpoint: Endpoint) => found.modelsOf(endpoint).models,
  });
  const startedAt = Date.now();
  const lag = monitorEventLoop();
  const { server: serverConfig } = config;
  const anthropic = config.translators.anthropic;
  // Kept whatever server.request_stats says, as Olla does: a few counters, on the Anthropic route only.
  const translatorStats = createTranslatorStats(anthropic.enabled ? ["anthropic"] : []);
  const snapshots = {
    status: () => ({
      ...statusSnapshot(endpoints, {
        version: BUILD.version,
        commit: BUILD.commit,
        engine: config.proxy.engine,
        loadBalancer: config.proxy.load_balancer,
        startedAt,
        now: Date.now(),
        security: violations.snapshot(),
        modelsOf: (endpoint) => {
          const known = discovery?.modelsOf(endpoint);
          return { count: known?.models.length ?? 0, updatedAt: known?.updatedAt };
        },
      }),
      rate_limits: limits ? limits.status() : { enabled: false },
    }),
    endpoints: () => {
      const now = Date.now();
      return endpointsSnapshot(endpoints, health, now, (endpoint) => {
        if (!discovery) return {};
        const known = discovery.modelsOf(endpoint);
        return {
          model_count: known.models.length,
          models: known.models.map((model) => model.name),
          last_model_sync_at: known.updatedAt === undefined ? null : new Date(known.updatedAt).toISOString(),
          last_model_sync: timeAgo(known.updatedAt, now),
          model_discovery_error: known.error ?? null,
        };
      });
    },
    process: () => processSnapshot(lag, { open_requests: server.pending(), upstream_pool: client.stats() }),
    statsEndpoints: () => ({
      timestamp: new Date().toISOString(),
      endpoints: endpoints.map((endpoint) => {
        const tally = stats.endpoint(endpoint.name);
        return {
          name: endpoint.name,
          status: endpoint.status,
          ...(tally ? tallyJson(tally) : { requests: 0 }),
          // Per endpoint, in flight is the router's count; the tallies keep it per model only.
          in_flight: endpoint.inFlight,
        };
      }),
    }),
    statsSticky: () => (sticky ? sticky.stats() : { enabled: false }),
    statsTranslators: () => translatorStats.snapshot(),
    statsModels: (includeEndpoints: boolean) => ({
      timestamp: new Date().toISOString(),
      models: [...stats.models()].map(([name, entry]) => ({
        name,
        ...tallyJson(entry.total),
        ...(includeEndpoints
          ? {
              endpoints: [...entry.byEndpoint].map(([endpoint, tally]) => ({
                endpoint,
                ...tallyJson(tally),
              })),
            }
          : {}),
      })),
    }),
    metrics: () => {
      const pool = client.stats();
      const { lastMs } = lag.read();
      return metrics.render({
        endpoints: endpoints.map((endpoint) => ({
          name: endpoint.name,
          up: isRoutable(endpoint),
          inFlight: endpoint.inFlight,
          priority: endpoint.priority,
          models: discovery?.modelsOf(endpoint).models.length ?? 0,
        })),
        system: {
          info: {
            version: BUILD.version,
            commit: BUILD.commit,
            engine: config.proxy.engine,
            balancer: config.proxy.load_balancer,
          },
          uptimeSeconds: (Date.now() - startedAt) / 1000,
          status: fleetVerdict(endpoints),
        },
        extra: [
          {
            name: "olla_upstream_connections",
            help: "Upstream connections of the proxy engine, by state.",
            samples: [
              [{ state: "open" }, pool.open],
              [{ state: "idle" }, pool.idle],
              [{ state: "queued" }, pool.queued],
              [{ state: "in_flight" }, pool.inFlight],
            ],
          },
          {
            name: "olla_event_loop_lag_seconds",
            help: "How late the event loop ran a timer at the last sample.",
            samples: [[{}, lastMs / 1000]],
          },
        ],
      });
    },
  };
  if (anthropic.enabled && anthropic.inspector.enabled) {
    logger.warn("the Anthropic inspector writes every request and answer to disk: for debugging only", {
      output_dir: anthropic.inspector.output_dir,
    });
  }
  const proxyDeps: ProxyDeps = {
    endpoints,
    profiles,
    balancer: createBalancer(config.proxy.load_balancer),
    client,
    reportFailure: (endpoint, reason) => health.reportFailure(endpoint, reason),
    isRoutable,
    maxBodySize: serverConfig.request_limits.max_body_size,
    readTimeoutMs: serverConfig.read_timeout,
    responseTimeoutMs: config.proxy.response_timeout,
    writeTimeoutMs: config.server.write_timeout,
    models: discovery && {
      strategy: config.model_registry.routing_strategy.type,
      fallback: config.model_registry.routing_strategy.options.fallback_behavior,
      discoveryTimeoutMs: config.model_registry.routing_strategy.options.discovery_timeout,
      refreshOnMiss: config.model_registry.routing_strategy.options.discovery_refresh_on_miss,
      aliases: config.model_aliases,
      related: config.model_registry.enable_unifier
        ? (model) =>
            findModel(buildCatalogue(catalogueSource(discovery), { includeUnavailable: true }), model)
              ?.aliases ?? []
        : undefined,
      catalogue: (endpoint) => discovery.modelsOf(endpoint),
      refresh: async (targets) => {
        await Promise.all(targets.filter(isRoutable).map((endpoint) => discovery.refresh(endpoint)));
      },
    },
    logger: logger.child({ component: "proxy" }),
    clientKeysAreOurs: keys.enabled,
    sticky,
    onSizeLimited: () => violations.sizeLimited(),
  };
  const router = createRouter([
    ...systemRoutes({
      capabilities: CAPABILITIES,
      supportedBackends: profiles.map((profile) => profile.name),
    }),
    ...internalRoutes(snapshots),
    ...(config.dashboard.enabled
      ? dashboardRoutes({
          allowedIp: dashboardNetworks,
          allowedHosts: config.dashboard.access_policy.allowed_hosts,
        })
      : []),
    // Merged model lists answer from the catalogue; without discovery they go to an endpoint as-is.
    ...(discovery ? modelListRoutes(catalogueSource(discovery), profiles) : []),
    ...(discovery && config.model_registry.enable_unifier ? catalogueRoutes(catalogueSource(discovery)) : []),
    ...(anthropic.enabled
      ? anthropicRoutes(proxyDeps, {
          passthrough: anthropic.passthrough_enabled,
          // server.request_limits.max_body_size holds on this route too: the tighter of the two (0 = none).
          maxMessageSize: tighterLimit(anthropic.max_message_size, serverConfig.request_limits.max_body_size),
          inspect: anthropic.inspector.enabled
            ? createInspector(anthropic.inspector.output_dir, logger.child({ component: "inspector" }))
            : undefined,
          sessionHeader: anthropic.inspector.session_header,
          startedAt: new Date(startedAt),
          stats: translatorStats,
        })
      : []),
    ...modelManagementRoutes(profiles),
    ...proxyRoutes(proxyDeps),
  ]);
  const maxBody = serverConfig.request_limits.max_body_size;
  const server = startHttpServer({
    host: serverConfig.host,
    port: serverConfig.port,
    // Keep-alive idle only: Bun gives a request head its own fixed 10 s (see read_header_timeout).
    idleTimeoutSeconds: (serverConfig.idle_timeout || serverConfig.read_timeout) / 1000,
    // Bun's own cap must sit above olla's limit so olla answers oversize bodies with its JSON 413.
    maxRequestBodySize: maxBody === 0 ? Number.MAX_SAFE_INTEGER : Math.max(maxBody + 1, 128 * 1024 * 1024),
    router,
    logger,
    cors: serverConfig.cors.enabled ? createCors(serverConfig.cors) : undefined,
    // Nothing to tell when neither reads it: no per-request bookkeeping at all.
    onRequestEnd: config.server.request_logging || collect ? onRequestEnd : undefined,
    onDispatch: collect ? (record) => stats.start(record.endpoint!, record.model) : undefined,
    guard,
    clientIp: (request, peer) =>
      peer === undefined ? undefined : clientIp(peer, request.headers, ipOptions),
  });
  return {
    server,
    endpoints,
    health,
    upstream: client,
    async stop() {
      health.stop();
      discovery?.stop();
      clearInterval(pruneTimer);
      limits?.stop();
      lag.stop();
      const result = await server.stop(serverConfig.shutdown_timeout);
      client.close();
      return result;
    },
  };
}

function storeStatus(status: StoreStatus) {
  // "local" while a configured Redis is away: the limits are then per replica.
  return {
    store: status.store === "redis" ? "redis" : "memory (redis unreachable)",
    healthy: status.healthy,
    last_error: status.lastError ?? null,
  };
}

/** server.rate_limits: in-memory buckets, or Redis-backed ones shared by replicas (falling back to
 * memory while Redis is away). Undefined when every limit is 0. */
function startRateLimits(config: Config, logger: Logger) {
  const settings = config.server.rate_limits;
  const options = {
    globalPerMinute: settings.global_requests_per_minute,
    perIpPerMinute: settings.per_ip_requests_per_minute,
    healthPerMinute: settings.health_requests_per_minute,
    burst: settings.burst_size,
  };
  if (options.globalPerMinute === 0 && options.perIpPerMinute === 0 && options.healthPerMinute === 0) return;
  const shared = settings.store !== "memory";
  const limiter: RateLimiter | SharedRateLimiter = shared
    ? createSharedRateLimiter(options, createRedisBuckets({ url: settings.store, logger }))
    : createRateLimiter(options);
  const sweeper = setInterval(() => limiter.sweep(), settings.cleanup_interval);
  sweeper.unref();
  return {
    limiter,
    status: () => ({
      enabled: true,
      ...("status" in limiter
        ? storeStatus(limiter.status())
        : { store: "memory", healthy: true, last_error: null }),
    }),
    stop() {
      clearInterval(sweeper);
      if ("close" in limiter) limiter.close();
    },
  };
}

/** The tighter of two size limits, where 0 means no limit. */
function tighterLimit(a: number, b: number): number {
  if (a === 0 || b === 0) return a || b;
  return Math.min(a, b);
}
