// /internal/status, /internal/status/endpoints and /internal/process: JSON from snapshot functions
// the composition root provides, so this file knows routes, not endpoints.

import type { Route } from "./router.ts";

export interface InternalSnapshots {
  status: () => unknown;
  endpoints: () => unknown;
  process: () => unknown;
}

const json = (body: unknown) => Response.json(body, { headers: { "cache-control": "no-store" } });

export function internalRoutes(snapshots: InternalSnapshots): Route[] {
  return [
    { methods: ["GET"], path: "/internal/status", handler: () => json(snapshots.status()) },
    { methods: ["GET"], path: "/internal/status/endpoints", handler: () => json(snapshots.endpoints()) },
    { methods: ["GET"], path: "/internal/process", handler: () => json(snapshots.process()) },
  ];
}
