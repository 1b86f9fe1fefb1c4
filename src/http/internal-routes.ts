// /internal/status, /internal/status/endpoints, /internal/process, /internal/stats/* and
// /internal/metrics: JSON (and Prometheus text) from snapshot functions the composition root
// provides, so this file knows routes, not endpoints.

import { conditionalJson } from "./conditional-json.ts";
import type { Route } from "./router.ts";

export interface InternalSnapshots {
  status: () => unknown;
  endpoints: () => unknown;
  process: () => unknown;
  statsModels: (includeEndpoints: boolean) => unknown;
  statsEndpoints: () => unknown;
  /** {"enabled":false} while sticky sessions are off. */
  statsSticky: () => unknown;
  statsTranslators: () => unknown;
  /** Prometheus text exposition. */
  metrics: () => string;
}

const json = (body: unknown) => Response.json(body, { headers: { "cache-control": "no-store" } });

export function internalRoutes(snapshots: InternalSnapshots): Route[] {
  return [
    {
      methods: ["GET"],
      path: "/internal/status",
      handler: (request) => conditionalJson(request, snapshots.status()),
    },
    {
      methods: ["GET"],
      path: "/internal/status/endpoints",
      handler: (request) => conditionalJson(request, snapshots.endpoints()),
    },
    { methods: ["GET"], path: "/internal/process", handler: () => json(snapshots.process()) },
    {
      methods: ["GET"],
      path: "/internal/stats/models",
      handler: (_request, context) =>
        json(snapshots.statsModels(context.url.searchParams.get("include_endpoints") === "true")),
    },
    { methods: ["GET"], path: "/internal/stats/endpoints", handler: () => json(snapshots.statsEndpoints()) },
    { methods: ["GET"], path: "/internal/stats/sticky", handler: () => json(snapshots.statsSticky()) },
    {
      methods: ["GET"],
      path: "/internal/stats/translators",
      handler: () => json(snapshots.statsTranslators()),
    },
    {
      methods: ["GET"],
      path: "/internal/metrics",
      handler: () =>
        new Response(snapshots.metrics(), {
          headers: {
            "content-type": "text/plain; version=0.0.4; charset=utf-8",
            "cache-control": "no-store",
          },
        }),
    },
  ];
}
