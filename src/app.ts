// Composition root: builds every service from the configuration, starts and stops them in order.

import type { Config } from "./config/index.ts";
import { createRouter, type HttpServer, startHttpServer, systemRoutes } from "./http/index.ts";
import type { Logger } from "./log/index.ts";
import { PROFILES } from "./profiles/index.ts";

export interface App {
  server: HttpServer;
  /** Graceful stop: in-flight requests get up to server.shutdown_timeout to finish. */
  stop(): Promise<{ drained: boolean }>;
}

/** Features this build serves; reported by /version. */
export const CAPABILITIES = ["layered_config", "graceful_shutdown", "structured_logging"] as const;

export async function startApp(config: Config, logger: Logger): Promise<App> {
  const router = createRouter([
    ...systemRoutes({
      capabilities: CAPABILITIES,
      supportedBackends: PROFILES.map((profile) => profile.name),
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
  });
  return {
    server,
    stop: () => server.stop(serverConfig.shutdown_timeout),
  };
}
