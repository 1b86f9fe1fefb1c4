// IP address parsing and canonical text for per-request work (client IP, rate-limit keys, CIDR checks).
// Hand-written on char codes: no regex, no BigInt, because it runs on every request.

export interface IpAddress {
  /** IPv4 value as an unsigned 32-bit number, also set for IPv4-mapped IPv6 (::ffff:a.b.c.d); -1 otherwise. */
  v4: number;
  /** The eight 16-bit groups when the text was IPv6 (mapped ones included), else undefined. */
  v6: Uint16Array | undefined;
}

/** Longer than any address with a sensible zone id: refuses header garbage before any work. */
const MAX_TEXT = 100;

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** Dotted IPv4 in text[start, end), as an unsigned number, or -1. Up to three decimal digits per octet,
 *  the same rule for config checks and requests. */
function parseV4(text: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      octet = octet * 10 + (code - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (code === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  return digits === 0 || dots !== 3 ? -1 : value * 256 + octet;
}

/** Dotted IPv4 exactly as formatIp writes it: parseV4's address with no leading zero in any part (the
 *  peer text Bun gives, answered without parsing into an IpAddress and formatting it back). */
export function isCanonicalV4(text: string): boolean {
  if (parseV4(text, 0, text.length) < 0) return false;
  // parseV4 reads "01" as 1; formatIp never writes a leading zero.
  for (let i = 0; i < text.length - 1; i++) {
    const partStart = i === 0 || text.charCodeAt(i - 1) === 46;
    if (partStart && text.charCodeAt(i) === 48 && text.charCodeAt(i + 1) !== 46) return false;
  }
  return true;
}

/** IPv6 in text[start, end) (no brackets, no zone), as eight groups, or undefined. */
function parseV6(text: string, start: number, end: number): Uint16Array | undefined {
  const groups = new Uint16Array(8);
  let count = 0;
  let gap = -1;
  let i = start;
  if (i >= end) return undefined;
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return undefined;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    if (count === 8) return undefined;
    let value = 0;
    let digits = 0;
    let j = i;
    for (; j < end; j++) {
      const hex = hexValue(text.charCodeAt(j));
      if (hex < 0) break;
      if (++digits > 4) return undefined;
      value = value * 16 + hex;
    }
    if (j < end && text.charCodeAt(j) === 46) {
      // An embedded dotted IPv4 (::ffff:10.0.0.1) ends the address and fills two groups.
      const v4 = parseV4(text, i, end);
      if (v4 < 0 || count > 6) return undefined;
      groups[count++] = Math.floor(v4 / 65536);
      groups[count++] = v4 & 0xffff;
      break;
    }
    if (digits === 0) return undefined;
    groups[count++] = value;
    if (j === end) break;
    if (text.charCodeAt(j) !== 58) return undefined;
    j++;
    if (j < end && text.charCodeAt(j) === 58) {
      if (gap >= 0) return undefined;
      gap = count;
      j++;
    } else if (j === end) {
      return undefined;
    }
    i = j;
  }
  if (gap < 0) return count === 8 ? groups : undefined;
  // "::" stands for at least one zero group.
  if (count > 7) return undefined;
  const tail = count - gap;
  for (let k = 1; k <= tail; k++) groups[8 - k] = groups[count - k] as number;
  groups.fill(0, gap, 8 - tail);
  return groups;
}

function mappedV4(groups: Uint16Array): number {
  for (let k = 0; k < 5; k++) if (groups[k] !== 0) return -1;
  return groups[5] === 0xffff ? (groups[6] as number) * 65536 + (groups[7] as number) : -1;
}

function isPort(text: string, start: number): boolean {
  const length = text.length - start;
  if (length < 1 || length > 5) return false;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/**
 * Parses an address as proxies write it: `10.0.0.1`, `2001:db8::1`, `::ffff:10.0.0.1`, `fe80::1%eth0`,
 * `[2001:db8::1]`; with `allowPort` also `10.0.0.1:8080` and `[2001:db8::1]:443`. Undefined for
 * anything else. The caller trims.
 */
export function parseIp(text: string, allowPort = true): IpAddress | undefined {
  let end = text.length;
  if (end === 0 || end > MAX_TEXT) return undefined;
  let start = 0;
  if (text.charCodeAt(0) === 91) {
    end = text.indexOf("]");
    if (end < 0) return undefined;
    const after = end + 1;
    if (after !== text.length && !(allowPort && text.charCodeAt(after) === 58 && isPort(text, after + 1))) {
      return undefined;
    }
    start = 1;
  } else {
    const colon = text.indexOf(":");
    if (colon < 0) {
      const v4 = parseV4(text, 0, end);
      return v4 < 0 ? undefined : { v4, v6: undefined };
    }
    if (allowPort && text.indexOf(":", colon + 1) < 0) {
      // One colon is never IPv6: only "a.b.c.d:port" can be meant.
      const v4 = isPort(text, colon + 1) ? parseV4(text, 0, colon) : -1;
      return v4 < 0 ? undefined : { v4, v6: undefined };
    }
  }
  const zone = text.indexOf("%", start);
  if (zone >= 0 && zone < end) {
    if (zone === end - 1) return undefined;
    end = zone;
  }
  const v6 = parseV6(text, start, end);
  return v6 ? { v4: mappedV4(v6), v6 } : undefined;
}

function formatV4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (first on a tie) of two or more zero
 *  groups as "::". */
function formatV6(groups: Uint16Array): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += "::";
      i += bestLength - 1;
      continue;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += (groups[i] as number).toString(16);
  }
  return out;
}

/** Canonical text: dotted IPv4 for IPv4 and IPv4-mapped IPv6 (so both spellings are one client), RFC 5952
 *  for other IPv6 (zone ids dropped). */
export function formatIp(ip: IpAddress): string {
  return ip.v4 >= 0 ? formatV4(ip.v4) : formatV6(ip.v6 as Uint16Array);
}

/** Canonical text of an address, or undefined when it is not one. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text.trim());
  return ip && formatIp(ip);
}

/**
 * The rate-limit key of a client: the address itself for IPv4, its `/bits` network for IPv6. One IPv6
 * subscriber usually holds a whole /64, so keying single addresses would let it mint fresh buckets at will.
 * Text that is not an address is its own key.
 */
export function ipKey(address: string, v6Bits = 64): string {
  if (!address.includes(":")) return address;
  const ip = parseIp(address);
  if (!ip) return address;
  if (ip.v4 >= 0) return formatV4(ip.v4);
  if (v6Bits >= 128) return formatV6(ip.v6 as Uint16Array);
  const masked = Uint16Array.from(ip.v6 as Uint16Array);
  for (let group = 0; group < 8; group++) {
    const keep = Math.min(16, Math.max(0, v6Bits - group * 16));
    masked[group] = keep === 0 ? 0 : (masked[group] as number) & (0xffff << (16 - keep));
  }
  return `${formatV6(masked)}/${v6Bits}`;
}
