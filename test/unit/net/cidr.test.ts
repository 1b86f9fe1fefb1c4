import { describe, expect, test } from "bun:test";
import { cidrContains, parseCidr, parseIp } from "../../../src/net/cidr.ts";

describe("parseCidr", () => {
  test.each([
    "10.0.0.0/8",
    "127.0.0.1",
    "0.0.0.0/0",
    "::1/128",
    "fc00::/7",
    "::/0",
    "2001:db8::1",
    "::ffff:10.0.0.0/104",
  ])("accepts %s", (text) => {
    expect(parseCidr(text)).toBeDefined();
  });

  test.each([
    "10.0.0.0/33",
    "256.0.0.1",
    "10.0.0/8",
    "bogus",
    "::1/129",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "10.0.0.0/8/8",
    "",
  ])("refuses %s", (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe("cidrContains", () => {
  const range = (text: string) => parseCidr(text)!;
  test.each([
    ["10.0.0.0/8", "10.200.3.4", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["192.168.1.0/24", "192.168.1.255", true],
    ["192.168.1.0/24", "192.168.2.0", false],
    ["127.0.0.0/8", "::ffff:127.0.0.1", true],
    ["::1/128", "::1", true],
    ["::1/128", "127.0.0.1", false],
    ["fc00::/7", "fd12:3456::1", true],
    ["fc00::/7", "fe80::1", false],
    ["0.0.0.0/0", "8.8.8.8", true],
    ["2001:db8::/32", "[2001:db8::abcd]", true],
  ] as const)("%s contains %s: %p", (cidr, address, expected) => {
    expect(cidrContains(range(cidr), address)).toBe(expected);
  });

  test("an unparsable address is never contained", () => {
    expect(cidrContains(range("0.0.0.0/0"), "not-an-ip")).toBe(false);
  });

  test("IPv6 with a zone id parses", () => {
    expect(parseIp("fe80::1%eth0")).toEqual({ version: 6, value: parseIp("fe80::1")!.value });
  });
});
