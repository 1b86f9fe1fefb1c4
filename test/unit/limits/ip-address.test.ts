import { describe, expect, test } from "bun:test";
import { canonicalIp, ipKey, parseIp } from "../../../src/limits/index.ts";

describe("canonicalIp", () => {
  test.each([
    ["10.0.0.1", "10.0.0.1"],
    ["010.000.000.001", "10.0.0.1"],
    ["255.255.255.255", "255.255.255.255"],
    ["10.0.0.1:8080", "10.0.0.1"],
    ["::ffff:10.0.0.1", "10.0.0.1"],
    ["::FFFF:0a00:0001", "10.0.0.1"],
    ["[::ffff:10.0.0.1]:443", "10.0.0.1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:db8::", "2001:db8::"],
    ["::", "::"],
    ["::1", "::1"],
    ["[2001:db8::1]", "2001:db8::1"],
    ["[2001:db8::1]:443", "2001:db8::1"],
    ["fe80::1%eth0", "fe80::1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1::2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
    ["::1.2.3.4", "::102:304"],
    [" 10.0.0.1 ", "10.0.0.1"],
  ])("%s → %s", (text, canonical) => {
    expect(canonicalIp(text)).toBe(canonical);
  });

  test.each([
    "",
    "unknown",
    "10.0.0",
    "10.0.0.1.2",
    "256.0.0.1",
    "1.2.3.4.",
    ".1.2.3",
    "1..2.3",
    "1.2.3.1234",
    "10.0.0.1:",
    "10.0.0.1:123456",
    "10.0.0.1:http",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    ":::",
    ":1",
    "1:",
    "1::2:3:4:5:6:7:8",
    "12345::",
    "g::1",
    "[::1",
    "[::1]x",
    "[10.0.0.1]",
    "fe80::1%",
    "::ffff:1.2.3",
    "1.2.3.4::",
    "a".repeat(200),
    "<script>",
    "10.0.0.1, 10.0.0.2",
  ])("%p is no address", (text) => {
    expect(canonicalIp(text)).toBeUndefined();
  });

  test("ports are refused where the caller says so (CIDR text)", () => {
    expect(parseIp("10.0.0.1:80", false)).toBeUndefined();
    expect(parseIp("[::1]:80", false)).toBeUndefined();
    expect(parseIp("[::1]", false)).toBeDefined();
  });

  test("random full IPv6 addresses read back group for group", () => {
    for (let i = 0; i < 2_000; i++) {
      const groups = Array.from({ length: 8 }, () =>
        Math.random() < 0.3 ? 0 : Math.floor(Math.random() * 65536),
      );
      const parsed = parseIp(groups.map((group) => group.toString(16)).join(":"));
      expect([...(parsed?.v6 ?? [])]).toEqual(groups);
    }
  });

  test("random junk never throws", () => {
    const alphabet = "0123456789abcdefABCDEF:.[]%/, xg";
    for (let i = 0; i < 20_000; i++) {
      const length = Math.floor(Math.random() * 48);
      let text = "";
      for (let j = 0; j < length; j++) text += alphabet[Math.floor(Math.random() * alphabet.length)];
      const canonical = canonicalIp(text);
      // Whatever parses has a canonical form that parses to itself.
      if (canonical !== undefined) expect(canonicalIp(canonical)).toBe(canonical);
    }
  });
});

describe("ipKey", () => {
  test("IPv4 is keyed per address", () => {
    expect(ipKey("10.0.0.1")).toBe("10.0.0.1");
  });

  test("IPv6 is keyed per /64 by default, so one subscriber cannot rotate addresses into new buckets", () => {
    expect(ipKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(ipKey("2001:db8:1:2:bbbb::2")).toBe("2001:db8:1:2::/64");
    expect(ipKey("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
  });

  test("the prefix length is adjustable, 128 meaning per address", () => {
    expect(ipKey("2001:db8:1:2:aaaa::1", 56)).toBe("2001:db8:1::/56");
    expect(ipKey("2001:db8:1:2:aaaa::1", 128)).toBe("2001:db8:1:2:aaaa::1");
  });

  test("IPv4-mapped addresses share the IPv4 key; non-addresses are their own key", () => {
    expect(ipKey("::ffff:10.0.0.1")).toBe("10.0.0.1");
    expect(ipKey("unknown")).toBe("unknown");
  });
});
