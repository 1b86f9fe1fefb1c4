import { describe, expect, test } from "bun:test";
import { createViolations } from "../../../src/limits/violations.ts";

describe("security violations", () => {
  test("counts 429s and 413s; blocked_ips counts distinct IPs", () => {
    const violations = createViolations();
    expect(violations.snapshot()).toEqual({
      status: "normal",
      blocked_ips: 0,
      violations: { rate_limits: 0, size_limits: 0 },
    });
    violations.rateLimited("10.0.0.1");
    violations.rateLimited("10.0.0.1");
    violations.rateLimited("10.0.0.2");
    violations.sizeLimited();
    expect(violations.snapshot()).toEqual({
      status: "normal",
      blocked_ips: 2,
      violations: { rate_limits: 3, size_limits: 1 },
    });
  });

  test("elevated above 100 violations, or above 10 rate-limited IPs", () => {
    const many = createViolations();
    for (let i = 0; i < 100; i++) many.sizeLimited();
    expect(many.snapshot().status).toBe("normal");
    many.rateLimited("10.0.0.1");
    expect(many.snapshot().status).toBe("elevated");

    const spread = createViolations();
    for (let i = 0; i < 10; i++) spread.rateLimited(`10.0.0.${i}`);
    expect(spread.snapshot().status).toBe("normal");
    spread.rateLimited("10.0.0.99");
    expect(spread.snapshot()).toMatchObject({ status: "elevated", blocked_ips: 11 });
  });

  test("the IP set is bounded: past the cap the IP refused longest ago goes", () => {
    let now = 0;
    const violations = createViolations({ maxIps: 3, now: () => now });
    for (const ip of ["a", "b", "c"]) {
      violations.rateLimited(ip);
      now += 1;
    }
    // "a" again: now the most recent, so "b" is the oldest.
    violations.rateLimited("a");
    violations.rateLimited("d");
    expect(violations.snapshot().blocked_ips).toBe(3);
    for (let i = 0; i < 10_000; i++) violations.rateLimited(`ip-${i}`);
    expect(violations.snapshot()).toMatchObject({ blocked_ips: 3, violations: { rate_limits: 10_005 } });
  });

  test("an IP not refused for the forget time is forgotten; the counts stay", () => {
    let now = 0;
    const violations = createViolations({ forgetAfterMs: 60_000, now: () => now });
    violations.rateLimited("a");
    now = 30_000;
    violations.rateLimited("b");
    now = 59_999;
    expect(violations.snapshot().blocked_ips).toBe(2);
    now = 60_000;
    expect(violations.snapshot().blocked_ips).toBe(1);
    now = 90_000;
    expect(violations.snapshot()).toMatchObject({ blocked_ips: 0, violations: { rate_limits: 2 } });
    violations.rateLimited(undefined);
    expect(violations.snapshot().blocked_ips).toBe(1);
  });
});
