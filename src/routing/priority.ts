// priority: the highest-priority tier of the candidates, spread by weight within the tier.
// Lower tiers only get traffic when no higher one is a candidate (down, or lacking the model).

import type { Endpoint } from "../endpoints/index.ts";
import { type Balancer, effectiveWeight } from "./balancer.ts";

export function priorityBalancer(random: () => number = Math.random): Balancer {
  return {
    name: "priority",
    pick(candidates) {
      let top = Number.NEGATIVE_INFINITY;
      let total = 0;
      for (const endpoint of candidates) {
        if (endpoint.priority > top) {
          top = endpoint.priority;
          total = 0;
        }
        if (endpoint.priority === top) total += effectiveWeight(endpoint);
      }
      let ticket = random() * total;
      let last: Endpoint | undefined;
      for (const endpoint of candidates) {
        if (endpoint.priority !== top) continue;
        last = endpoint;
        ticket -= effectiveWeight(endpoint);
        if (ticket < 0) return endpoint;
      }
      return last;
    },
  };
}
