// Routing: which endpoint serves a request.
import type { Balancer } from "./balancer.ts";
import { leastConnectionsBalancer } from "./least-connections.ts";
import { priorityBalancer } from "./priority.ts";
import { roundRobinBalancer } from "./round-robin.ts";

export type { Balancer } from "./balancer.ts";
export {
  availableModels,
  type EndpointCatalogue,
  type Fallback,
  type ModelRoute,
  type ModelRoutingInput,
  routeByModel,
  type Strategy,
} from "./model-routing.ts";
export {
  createStickySessions,
  type KeyMaterial,
  type KeySource,
  keySourceOf,
  SESSION_HEADER,
  type StickyOutcome,
  type StickySessions,
  type StickySettings,
  type StickyStats,
} from "./sticky-sessions.ts";
export { leastConnectionsBalancer, priorityBalancer, roundRobinBalancer };

export type BalancerName = "priority" | "round_robin" | "least_connections";

export function createBalancer(name: BalancerName): Balancer {
  switch (name) {
    case "priority":
      return priorityBalancer();
    case "round_robin":
      return roundRobinBalancer();
    case "least_connections":
      return leastConnectionsBalancer();
  }
}
