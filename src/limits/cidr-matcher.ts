// CIDR lists compiled once into a matcher that answers "is this address inside?" without allocating
// per range: used for trusted proxies and for the /internal/* allow-list.

import { type IpAddress, parseIp } from "./ip-address.ts";

export interface IpMatcher {
  /** True when the address lies in one of the ranges. Unparsable text and undefined are never inside.
   *  IPv4 ranges also match IPv4-mapped IPv6 addresses (::ffff:10.0.0.1); IPv6 ranges match IPv6 text. */
  contains(address: string | IpAddress | undefined): boolean;
  /** The ranges as given, for logs and status pages. */
  readonly cidrs: readonly string[];
}

interface V6Range {
  groups: Uint16Array;
  prefix: number;
}

const HINT = "expected an IP range such as 10.0.0.0/8 or ::1/128";

/** Parses one range; throws an error naming it when it is not one. A bare address is a single host. */
function parseRange(text: string): { v4: [number, number] } | { v6: V6Range } {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const address = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const bits = slash < 0 ? undefined : trimmed.slice(slash + 1);
  const ip = parseIp(address, false);
  const isV4 = ip !== undefined && ip.v6 === undefined;
  const width = isV4 ? 32 : 128;
  const prefix = bits === undefined ? width : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!ip || !(prefix >= 0 && prefix <= width))
    throw new Error(`invalid CIDR ${JSON.stringify(text)}: ${HINT}`);
  if (isV4) {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return { v4: [(ip.v4 & mask) >>> 0, mask] };
  }
  const groups = Uint16Array.from(ip.v6 as Uint16Array);
  for (let group = 0; group < 8; group++) {
    const keep = Math.min(16, Math.max(0, prefix - group * 16));
    groups[group] = keep === 0 ? 0 : (groups[group] as number) & (0xffff << (16 - keep));
  }
  return { v6: { groups, prefix } };
}

function inV6(groups: Uint16Array, range: V6Range): boolean {
  const full = range.prefix >> 4;
  for (let i = 0; i < full; i++) if (groups[i] !== range.groups[i]) return false;
  const rest = range.prefix & 15;
  if (rest === 0) return true;
  const mask = (0xffff << (16 - rest)) & 0xffff;
  return ((groups[full] as number) & mask) === range.groups[full];
}

/**
 * Compiles CIDR text (`10.0.0.0/8`, `::1/128`, `fe80::/10`, a bare address) into a matcher. Throws an
 * error naming the first bad entry, so config validation can call it and report the value.
 */
export function compileCidrs(cidrs: readonly string[]): IpMatcher {
  const v4: [number, number][] = [];
  const v6: V6Range[] = [];
  for (const text of cidrs) {
    const range = parseRange(text);
    if ("v4" in range) v4.push(range.v4);
    else v6.push(range.v6);
  }
  return {
    cidrs: [...cidrs],
    contains(address) {
      if (address === undefined) return false;
      const ip = typeof address === "string" ? parseIp(address) : address;
      if (!ip) return false;
      if (ip.v4 >= 0) {
        for (const [network, mask] of v4) if ((ip.v4 & mask) >>> 0 === network) return true;
      }
      if (ip.v6) for (const range of v6) if (inV6(ip.v6, range)) return true;
      return false;
    },
  };
}

/**
 * An allow-list for restricted routes such as /internal/*: a function telling whether a client address may
 * pass. An empty list lets nobody in (not everybody): leaving a route open is the caller's explicit choice.
 * Give it the resolved client IP (see clientIp), not the TCP peer: behind a local reverse proxy every peer
 * is 127.0.0.1.
 */
export function allowList(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const matcher = compileCidrs(cidrs);
  return (address) => matcher.contains(address);
}
