// least_connections: the candidate with the fewest in-flight requests (a stream counts until its
// last byte), scaled by weight; ties rotate so equal nodes share the load.

import { type Balancer, effectiveWeight } from "./balancer.ts";

export function leastConnectionsBalancer(): Balancer {
  let cursor = 0;
  return {
    name: "least_connections",
    pick(candidates) {
      const count = candidates.length;
      if (count === 0) return undefined;
      cursor = (cursor + 1) % count;
      let best = candidates[cursor];
      let bestLoad = Number.POSITIVE_INFINITY;
      for (let offset = 0; offset < count; offset++) {
        const endpoint = candidates[(cursor + offset) % count];
        if (!endpoint) continue;
        const load = endpoint.inFlight / effectiveWeight(endpoint);
        if (load < bestLoad) {
          best = endpoint;
          bestLoad = load;
        }
      }
      return best;
    },
  };
}
