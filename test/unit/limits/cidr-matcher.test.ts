import { describe, expect, test } from "bun:test";
import { allowList, compileCidrs } from "../../../src/limits/index.ts";

const ACCEPTED = [
  "10.0.0.0/8",
  "127.0.0.1",
  "0.0.0.0/0",
  "::1/128",
  "fc00::/7",
  "::/0",
  "2001:db8::1",
  "::ffff:10.0.0.0/104",
  " 192.168.0.0/16 ",
  "fe80::%eth0/10",
];
const REFUSED = [
  "10.0.0.0/33",
  "256.0.0.1",
  "10.0.0/8",
  "bogus",
  "::1/129",
  "1:2:3:4:5:6:7:8:9",
  "1::2::3",
  "10.0.0.0/8/8",
  "",
  "10.0.0.0/",
  "10.0.0.0/-1",
  "10.0.0.0/8x",
  "10.0.0.1:80/32",
];

describe("compileCidrs", () => {
  test.each(ACCEPTED)("accepts %p", (cidr) => {
    expect(() => compileCidrs([cidr])).not.toThrow();
  });

  test.each(REFUSED)("refuses %p, naming it", (cidr) => {
    expect(() => compileCidrs(["10.0.0.0/8", cidr])).toThrow(`invalid CIDR ${JSON.stringify(cidr)}`);
  });

  test.each([
    ["10.0.0.0/8", "10.200.3.4", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["192.168.1.0/24", "192.168.1.255", true],
    ["192.168.1.0/24", "192.168.2.0", false],
    ["172.16.0.0/12", "172.31.255.255", true],
    ["172.16.0.0/12", "172.32.0.0", false],
    ["10.1.2.3", "10.1.2.3", true],
    ["10.1.2.3", "10.1.2.4", false],
    ["10.1.2.99/24", "10.1.2.7", true],
    ["127.0.0.0/8", "::ffff:127.0.0.1", true],
    ["127.0.0.0/8", "[::ffff:127.0.0.1]:80", true],
    ["::1/128", "::1", true],
    ["::1/128", "127.0.0.1", false],
    ["fc00::/7", "fd12:3456::1", true],
    ["fc00::/7", "fe80::1", false],
    ["fe80::/10", "fe80::1%eth0", true],
    ["2001:db8::/33", "2001:db8:7fff::1", true],
    ["2001:db8::/33", "2001:db8:8000::1", false],
    ["0.0.0.0/0", "8.8.8.8", true],
    ["0.0.0.0/0", "2001:db8::1", false],
    ["::/0", "2001:db8::1", true],
    ["::ffff:10.0.0.0/104", "::ffff:10.9.9.9", true],
    ["0.0.0.0/0", "not-an-ip", false],
  ] as const)("%s contains %s: %p", (cidr, address, expected) => {
    expect(compileCidrs([cidr]).contains(address)).toBe(expected);
  });

  test("agrees with plain integer arithmetic on random IPv4 addresses", () => {
    const ranges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "203.0.113.128/25"];
    const matcher = compileCidrs(ranges);
    const toInt = (text: string) => text.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
    const parsed = ranges.map((range) => {
      const [base, bits] = range.split("/") as [string, string];
      const size = 2 ** (32 - Number(bits));
      return { start: Math.floor(toInt(base) / size) * size, size };
    });
    const cidrContains = (range: { start: number; size: number }, address: string) =>
      toInt(address) >= range.start && toInt(address) < range.start + range.size;
    for (let i = 0; i < 5_000; i++) {
      const first = [10, 172, 192, 100, 203, Math.floor(Math.random() * 256)][i % 6] as number;
      const address = [first, ...Array.from({ length: 3 }, () => Math.floor(Math.random() * 256))].join(".");
      expect([address, matcher.contains(address)]).toEqual([
        address,
        parsed.some((range) => cidrContains(range, address)),
      ]);
    }
  });

  test("an empty list contains nothing; undefined is never contained", () => {
    expect(compileCidrs([]).contains("10.0.0.1")).toBe(false);
    expect(compileCidrs(["0.0.0.0/0"]).contains(undefined)).toBe(false);
  });

  test("keeps the ranges as given", () => {
    expect(compileCidrs(["10.0.0.0/8", "::1/128"]).cidrs).toEqual(["10.0.0.0/8", "::1/128"]);
  });
});

describe("allowList", () => {
  test("lets in addresses inside the ranges only", () => {
    const allowed = allowList(["127.0.0.0/8", "::1/128"]);
    expect(allowed("127.0.0.1")).toBe(true);
    expect(allowed("::1")).toBe(true);
    expect(allowed("::ffff:127.0.0.1")).toBe(true);
    expect(allowed("192.168.1.5")).toBe(false);
    expect(allowed(undefined)).toBe(false);
    expect(allowed("garbage")).toBe(false);
  });

  test("an empty list lets nobody in", () => {
    expect(allowList([])("127.0.0.1")).toBe(false);
  });

  test("a bad range fails at construction, naming it", () => {
    expect(() => allowList(["127.0.0.0/8", "localhost"])).toThrow('invalid CIDR "localhost"');
  });
});
