// One contract every balancer passes, then each one's own distribution.

import { describe, expect, test } from "bun:test";
import {
  type Balancer,
  leastConnectionsBalancer,
  priorityBalancer,
  roundRobinBalancer,
} from "../../../src/routing/index.ts";
import { testEndpoint } from "../../support/endpoints.ts";

const factories: [string, () => Balancer][] = [
  ["priority", () => priorityBalancer()],
  ["round_robin", () => roundRobinBalancer()],
  ["least_connections", () => leastConnectionsBalancer()],
];

const fleet = (count: number) =>
  Array.from({ length: count }, (_, i) =>
    testEndpoint({ name: `e${i}`, url: `http://127.0.0.1:${9000 + i}` }),
  );

describe.each(factories)("%s meets the balancer contract", (name, make) => {
  test("no candidates, no pick", () => {
    expect(make().pick([])).toBeUndefined();
  });

  test("a single candidate is always picked", () => {
    const [only] = fleet(1);
    const balancer = make();
    for (let i = 0; i < 10; i++) expect(balancer.pick([only!])).toBe(only!);
  });

  test("always picks one of the candidates it was given", () => {
    const balancer = make();
    const endpoints = fleet(6);
    for (let i = 0; i < 200; i++) {
      const subset = endpoints.filter((_, index) => (i + index) % 3 !== 0);
      expect(subset).toContain(balancer.pick(subset)!);
    }
  });

  test("its name is the config value", () => {
    expect(make().name).toBe(name);
  });

  test("picks from 50 candidates quickly (no allocation-heavy work)", () => {
    const balancer = make();
    const endpoints = fleet(50);
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) balancer.pick(endpoints);
    // Generous: the bench measures the real figure; this only catches accidental O(n²) or sorting.
    expect((performance.now() - started) / 10_000).toBeLessThan(50 / 1000);
  });
});

describe("priority", () => {
  test("only the highest tier gets traffic while it is a candidate", () => {
    const high = testEndpoint({ name: "high", priority: 100 });
    const low = testEndpoint({ name: "low", priority: 10, url: "http://127.0.0.1:2" });
    const balancer = priorityBalancer();
    for (let i = 0; i < 100; i++) expect(balancer.pick([low, high])).toBe(high);
    expect(balancer.pick([low])).toBe(low);
  });

  test("within a tier, traffic follows weight", () => {
    const heavy = testEndpoint({ name: "heavy", weight: 3 });
    const light = testEndpoint({ name: "light", weight: 1, url: "http://127.0.0.1:2" });
    let seed = 1;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    const balancer = priorityBalancer(random);
    const counts = { heavy: 0, light: 0 };
    for (let i = 0; i < 4000; i++) counts[balancer.pick([heavy, light])!.name as "heavy" | "light"]++;
    expect(counts.heavy / counts.light).toBeGreaterThan(2.5);
    expect(counts.heavy / counts.light).toBeLessThan(3.5);
  });

  test("busy endpoints get a smaller share", () => {
    const busy = testEndpoint({ name: "busy" }, { status: "busy" });
    const calm = testEndpoint({ name: "calm", url: "http://127.0.0.1:2" });
    const balancer = priorityBalancer();
    let busyPicks = 0;
    for (let i = 0; i < 2000; i++) if (balancer.pick([busy, calm]) === busy) busyPicks++;
    expect(busyPicks).toBeGreaterThan(200);
    expect(busyPicks).toBeLessThan(700);
  });
});

describe("round_robin", () => {
  test("rotates evenly (within ±1) regardless of priority", () => {
    const endpoints = fleet(4).map((endpoint, i) => Object.assign(endpoint, { priority: i * 10 }));
    const balancer = roundRobinBalancer();
    const counts = new Map<string, number>();
    for (let i = 0; i < 101; i++) {
      const name = balancer.pick(endpoints)!.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const values = [...counts.values()];
    expect(values).toHaveLength(4);
    expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
  });

  test("consecutive picks differ", () => {
    const endpoints = fleet(3);
    const balancer = roundRobinBalancer();
    const picks = Array.from({ length: 6 }, () => balancer.pick(endpoints)!.name);
    for (let i = 1; i < picks.length; i++) expect(picks[i]).not.toBe(picks[i - 1]);
  });
});

describe("least_connections", () => {
  test("picks the endpoint with the fewest in-flight requests", () => {
    const [a, b, c] = fleet(3);
    a!.inFlight = 5;
    b!.inFlight = 1;
    c!.inFlight = 3;
    expect(leastConnectionsBalancer().pick([a!, b!, c!])).toBe(b!);
  });

  test("ties rotate", () => {
    const endpoints = fleet(3);
    const balancer = leastConnectionsBalancer();
    const names = new Set(Array.from({ length: 3 }, () => balancer.pick(endpoints)!.name));
    expect(names.size).toBe(3);
  });

  test("weights scale the count", () => {
    const big = testEndpoint({ name: "big", weight: 4 }, { inFlight: 6 });
    const small = testEndpoint({ name: "small", weight: 1, url: "http://127.0.0.1:2" }, { inFlight: 2 });
    expect(leastConnectionsBalancer().pick([big, small])).toBe(big);
  });

  test("spreads concurrent holders evenly when each pick holds a connection", () => {
    const endpoints = fleet(3);
    const balancer = leastConnectionsBalancer();
    for (let i = 0; i < 30; i++) balancer.pick(endpoints)!.inFlight++;
    expect(endpoints.map((endpoint) => endpoint.inFlight)).toEqual([10, 10, 10]);
  });
});
