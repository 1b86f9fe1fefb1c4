// Ollama's model management (pull, push, create, copy, delete) refused with 501, as Olla does: through a
// balancer it would reach one node picked for load, not the node meant, and change (or delete) models there.
// /api/show stays routed: it reads, and model-aware routing sends it to a node that has the model.

import { errorResponse } from "../http/errors.ts";
import type { Route } from "../http/router.ts";
import type { PlatformProfile } from "../profiles/profile.ts";

const OPERATIONS = ["pull", "push", "create", "copy", "delete"] as const;

const refuse = () =>
  errorResponse(
    "ollama",
    501,
    "model management operations (pull, push, create, copy, delete) are not supported by the proxy: " +
      "send them to the Ollama server itself",
  );

/** The management paths under /olla/, /olla/proxy/ and each Ollama prefix, any method. */
export function modelManagementRoutes(profiles: readonly PlatformProfile[]): Route[] {
  const ollama = profiles.find((profile) => profile.name === "ollama")?.prefixes ?? [];
  const bases = ["/olla", "/olla/proxy", ...ollama.map((prefix) => `/olla/${prefix}`)];
  return bases.flatMap((base) =>
    OPERATIONS.map((operation) => ({
      methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      path: `${base}/api/${operation}`,
      handler: refuse,
    })),
  );
}
