// Bun.serve wiring: request ids, the route table, JSON errors, and a graceful stop that lets
// in-flight requests finish within a deadline. The one place that talks to Bun's server API.

import type { Logger } from "../log/index.ts";
import type { Cors } from "./cors.ts";
import { apiFamily, errorResponse } from "./errors.ts";
import { requestIdFor } from "./request-id.ts";
import type { Router, ServerHandle } from "./router.ts";

export interface HttpServerOptions {
  host: string;
  port: number;
  /** Seconds an idle keep-alive client connection stays open (0 = forever; Bun caps at 255). */
  idleTimeoutSeconds: number;
  /** Largest body Bun itself accepts; olla's own limit answers first with a JSON 413. */
  maxRequestBodySize: number;
  router: Router;
  logger: Logger;
  /** Present when server.cors is enabled. */
  cors?: Cors;
}

export interface HttpServer {
  url: URL;
  port: number;
  /** Requests being served right now. */
  pending(): number;
  /** Stops accepting, waits up to graceMs for in-flight requests, then cuts what is left. */
  stop(graceMs: number): Promise<{ drained: boolean }>;
}

/** The listener could not be opened (port taken, address not on this machine, no permission). */
export class ListenError extends Error {
  constructor(host: string, port: number, cause: unknown) {
    super(
      `cannot listen on ${host}:${port}: ${(cause as Error)?.message ?? cause}. ` +
        "Another program (or a connection still closing) may hold the port: pick another with " +
        "server.port / OLLA_SERVER_PORT, or check server.host / OLLA_SERVER_HOST.",
    );
    this.name = "ListenError";
  }
}

export function startHttpServer(options: HttpServerOptions): HttpServer {
  const { router, logger, cors } = options;
  let handle: ServerHandle;

  let server: ReturnType<typeof Bun.serve>;
  try {
    server = listen();
  } catch (error) {
    throw new ListenError(options.host, options.port, error);
  }

  function listen() {
    return Bun.serve({
      hostname: options.host,
      port: options.port,
      development: false,
      idleTimeout: Math.min(255, Math.max(0, Math.round(options.idleTimeoutSeconds))),
      maxRequestBodySize: options.maxRequestBodySize,
      async fetch(request) {
        const started = performance.now();
        const url = new URL(request.url);
        const requestId = requestIdFor(request.headers);
        let response: Response;
        try {
          response =
            cors?.preflight(request) ?? (await router(request, { requestId, started, url, server: handle }));
        } catch (error) {
          logger.error("request failed", { request_id: requestId, path: url.pathname, error });
          response = errorResponse(apiFamily(url.pathname), 500, "internal error in olla", {
            code: "internal_error",
          });
        }
        response.headers.set("x-olla-request-id", requestId);
        cors?.decorate(request, response);
        return response;
      },
      error(error) {
        logger.error("unhandled server error", { error });
        return errorResponse("openai", 500, "internal error in olla", { code: "internal_error" });
      },
    });
  }

  handle = {
    timeout: (request, seconds) => server.timeout(request, seconds),
    peerAddress: (request) => server.requestIP(request)?.address,
  };

  return {
    url: server.url,
    port: server.port ?? options.port,
    pending: () => server.pendingRequests,
    async stop(graceMs) {
      const drained = server.stop(false).then(() => true);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const finished = await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (!finished) await server.stop(true);
      return { drained: finished };
    },
  };
}
