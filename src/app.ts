// Composition root: builds every service from the configuration, starts and stops them in order.
// Endpoints are probed once before the listener opens, so the first request sees real health.

import type { Config } from "./config/index.ts";
import {
  createEndpoint,
  createHealthScheduler,
  type Endpoint,
  type HealthScheduler,
  isRoutable,
  probeEndpoint,
} from "./endpoints/index.ts";
import { createCors, createRouter, type HttpServer, startHttpServer, systemRoutes } from "./http/index.ts";
import type { Logger } from "./log/index.ts";
import { PROFILES } from "./profiles/index.ts";
import { createUpstreamClient } from "./proxy/engine.ts";
import { proxyRoutes } from "./proxy/handler.ts";
import { createBalancer } from "./routing/index.ts";

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
  "load_balancing",
] as const;

export async function startApp(config: Config, logger: Logger): Promise<App> {
  const breaker = {
    failureThreshold: config.proxy.circuit_breaker.failure_threshold,
    openMs: config.proxy.circuit_breaker.open_duration,
  };
  const endpoints = config.discovery.static.endpoints
    .filter((entry) => entry.enabled)
    .map((entry) => createEndpoint(entry, breaker));
  const health = createHealthScheduler({
    endpoints,
    probe: (endpoint) => probeEndpoint(endpoint),
    logger: logger.child({ component: "health" }),
  });
  await health.start();

  const client = createUpstreamClient(config.proxy);
  const router = createRouter([
    ...systemRoutes({
      capabilities: CAPABILITIES,
      supportedBackends: PROFILES.map((profile) => profile.name),
    }),
    ...proxyRoutes({
      endpoints,
      profiles: PROFILES,
      balancer: createBalancer(config.proxy.load_balancer),
      client,
      reportFailure: (endpoint, reason) => health.reportFailure(endpoint, reason),
      isRoutable,
      maxBodySize: config.server.request_limits.max_body_size,
      responseTimeoutMs: config.proxy.response_timeout,
      logger: logger.child({ component: "proxy" }),
    }),
  ]);
  const { server: serverConfig } = config;
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
      const result = await server.stop(serverConfig.shutdown_timeout);
      client.close();
      return result;
    },
  };
}
