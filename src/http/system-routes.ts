// olla's own routes that need nothing but the process: liveness and build information.

import { BUILD } from "../version.ts";
import type { Route } from "./router.ts";

export interface VersionDetails {
  /** Features this build serves, e.g. "layered_config"; grows as features land. */
  capabilities: readonly string[];
  /** Endpoint types it can balance across. */
  supportedBackends: readonly string[];
}

export function systemRoutes(details: VersionDetails): Route[] {
  const version = {
    name: BUILD.name,
    version: BUILD.version,
    description: "Load balancer and reverse proxy for LLM inference servers",
    build: { commit: BUILD.commit, date: BUILD.date, runtime: BUILD.runtime, platform: BUILD.platform },
    capabilities: details.capabilities,
    supported_backends: details.supportedBackends,
    api: { version: "v1", endpoints: { health: "/internal/health", version: "/version" } },
  };
  const versionBody = JSON.stringify(version);
  return [
    {
      methods: ["GET"],
      path: "/internal/health",
      // Liveness only: olla itself answers. Endpoint health lives in /internal/status.
      handler: () => Response.json({ status: "healthy" }),
    },
    {
      methods: ["GET"],
      path: "/version",
      handler: () => new Response(versionBody, { headers: { "content-type": "application/json" } }),
    },
  ];
}
