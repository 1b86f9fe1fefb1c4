// round_robin: even rotation over the candidates in their configured order, whatever their priority.

import type { Balancer } from "./balancer.ts";

export function roundRobinBalancer(): Balancer {
  let turn = 0;
  return {
    name: "round_robin",
    pick(candidates) {
      if (candidates.length === 0) return undefined;
      const chosen = candidates[turn % candidates.length];
      turn = (turn + 1) % 1_000_000_007;
      return chosen;
    },
  };
}
