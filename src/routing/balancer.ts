// The contract every load balancer meets: pick one of the candidates (all routable), or none.

import type { Endpoint } from "../endpoints/index.ts";

export interface Balancer {
  readonly name: string;
  /** Picks one candidate; undefined only when there are none. O(candidates), no allocation. */
  pick(candidates: readonly Endpoint[]): Endpoint | undefined;
}

/** Busy endpoints still take traffic, at a lower share. */
export function effectiveWeight(endpoint: Endpoint): number {
  return endpoint.status === "busy" ? endpoint.weight * 0.3 : endpoint.weight;
}
