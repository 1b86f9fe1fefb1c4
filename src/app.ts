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
  type HealthScheduler,
  isRoutable,
  type ProbeResult,
  probeEndpoint,
  statusSnapshot,
} from "./endpoints/index.ts";
import {
  createCors,
  createRouter,
  type HttpServer,
  internalRoutes,
  startHttpServer,
  systemRoutes,
} from "./http/index.ts";
import type { Logger } from "./log/index.ts";
import { AUTO_PROFILE, type PlatformProfile, PROFILES } from "./profiles/index.ts";
import { createUpstreamClient } from "./proxy/engine.ts";
import { proxyRoutes } from "./proxy/handler.ts";
import { createModelDiscovery, type ModelDiscovery } from "./models/discovery.ts";
import { buildCatalogue, findModel } from "./models/catalogue.ts";
import { catalogueRoutes } from "./models/catalogue-routes.ts";
import { modelListRoutes } from "./models/list-routes.ts";
import { createBalancer } from "./routing/index.ts";
import { monitorEventLoop, processSnapshot } from "./stats/process.ts";
import { BUILD } from "./version.ts";

export interface App {
  server: HttpServer;
  endpoints: readonly Endpoint[];
  health: HealthScheduler;
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
] as const;

export async function startApp(
  config: Config,
  logger: Logger,
  profiles: readonly PlatformProfile[] = PROFILES,
): Promise<App> {
  const breaker = {
    failureThreshold: config.proxy.circuit_breaker.failure_threshold,
    openMs: config.proxy.circuit_breaker.open_duration,
  };
  const endpoints = config.discovery.static.endpoints
    .filter((entry) => entry.enabled)
    .map((entry) => createEndpoint(entry, breaker, undefined, profiles));
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

  const healthConfig = config.discovery.health_check;
  const health = createHealthScheduler({
    endpoints,
    probe,
    logger: logger.child({ component: "health" }),
    backoffCapMs: healthConfig.max_backoff,
    maxConcurrent: healthConfig.max_concurrent,
    breakerThreshold: healthConfig.circuit_breaker.failure_threshold,
    breakerOpenMs: healthConfig.circuit_breaker.open_duration,
    // A node that comes back may have different models loaded now.
    onRecovered: (endpoint) => void discovery?.refresh(endpoint),
  });
  const discoveryConfig = config.discovery.model_discovery;
  const discovery = discoveryConfig.enabled
    ? createModelDiscovery({
        endpoints,
        intervalMs: discoveryConfig.interval,
        timeoutMs: discoveryConfig.timeout,
        workers: discoveryConfig.concurrent_workers,
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
  const snapshots = {
    status: () =>
      statusSnapshot(endpoints, {
        version: BUILD.version,
        commit: BUILD.commit,
        engine: config.proxy.engine,
        loadBalancer: config.proxy.load_balancer,
        startedAt,
        now: Date.now(),
      }),
    endpoints: () =>
      endpointsSnapshot(endpoints, health, Date.now(), (endpoint) => {
        if (!discovery) return {};
        const known = discovery.modelsOf(endpoint);
        return {
          model_count: known.models.length,
          models: known.models.map((model) => model.name),
          last_model_sync_at: known.updatedAt === undefined ? null : new Date(known.updatedAt).toISOString(),
          model_discovery_error: known.error ?? null,
        };
      }),
    process: () => processSnapshot(lag, { open_requests: server.pending(), upstream_pool: client.stats() }),
  };
  const router = createRouter([
    ...systemRoutes({
      capabilities: CAPABILITIES,
      supportedBackends: profiles.map((profile) => profile.name),
    }),
    ...internalRoutes(snapshots),
    // Merged model lists answer from the catalogue; without discovery they go to an endpoint as-is.
    ...(discovery ? modelListRoutes(catalogueSource(discovery), profiles) : []),
    ...(discovery && config.model_registry.enable_unifier ? catalogueRoutes(catalogueSource(discovery)) : []),
    ...proxyRoutes({
      endpoints,
      profiles,
      balancer: createBalancer(config.proxy.load_balancer),
      client,
      reportFailure: (endpoint, reason) => health.reportFailure(endpoint, reason),
      isRoutable,
      maxBodySize: serverConfig.request_limits.max_body_size,
      responseTimeoutMs: config.proxy.response_timeout,
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
        catalogue: (endpoint) => {
          const known = discovery.modelsOf(endpoint);
          return { known: known.updatedAt !== undefined, models: known.models };
        },
        refresh: async (targets) => {
          await Promise.all(targets.filter(isRoutable).map((endpoint) => discovery.refresh(endpoint)));
        },
      },
      logger: logger.child({ component: "proxy" }),
    }),
  ]);
  const maxBody = serverConfig.request_limits.max_body_size;
  const server = startHttpServer({
    host: serverConfig.host,
    port: serverConfig.port,
    idleTimeoutSeconds: (serverConfig.idle_timeout || serverConfig.read_timeout) / 1000,
    // Bun's own cap must sit above olla's limit so olla answers oversize bodies with its JSON 413.
    maxRequestBodySize: maxBody === 0 ? Number.MAX_SAFE_INTEGER : Math.max(maxBody + 1, 128 * 1024 * 1024),
    router,
    logger,
    cors: serverConfig.cors.enabled ? createCors(serverConfig.cors) : undefined,
  });
  return {
    server,
    endpoints,
    health,
    async stop() {
      health.stop();
      discovery?.stop();
      lag.stop();
      const result = await server.stop(serverConfig.shutdown_timeout);
      client.close();
      return result;
    },
  };
}
