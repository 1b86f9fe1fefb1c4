// IPv4/IPv6 CIDR ranges: parsing (for config validation) and membership tests (for access rules).

export interface Cidr {
  version: 4 | 6;
  /** The address as a big-endian bit string packed into a bigint. */
  network: bigint;
  prefix: number;
}

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  let body = text;
  if (body.includes(".")) {
    // Embedded IPv4 (e.g. ::ffff:10.0.0.1): rewrite its dotted tail as two hex groups.
    const lastColon = body.lastIndexOf(":");
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    body = `${body.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return undefined;
  const toGroups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = toGroups(halves[0] as string);
  const rest = halves.length === 2 ? toGroups(halves[1] as string) : [];
  const given = head.length + rest.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  let value = 0n;
  for (const group of [...head, ...Array<string>(8 - given).fill("0"), ...rest]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return value;
}

/** Parses an IP address into its version and value, or undefined. */
export function parseIp(text: string): { version: 4 | 6; value: bigint } | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const v4 = parseIPv4(bare);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = bare.includes(":") ? parseIPv6(bare.split("%")[0] as string) : undefined;
  return v6 === undefined ? undefined : { version: 6, value: v6 };
}

/** Parses "10.0.0.0/8", "::1/128" or a bare address (a single-host range); undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const [address, bits, extra] = text.trim().split("/");
  if (extra !== undefined || address === undefined) return undefined;
  const ip = parseIp(address);
  if (!ip) return undefined;
  const width = ip.version === 4 ? 32 : 128;
  const prefix = bits === undefined ? width : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!(prefix >= 0 && prefix <= width)) return undefined;
  const shift = BigInt(width - prefix);
  return { version: ip.version, network: (ip.value >> shift) << shift, prefix };
}

/** True when the address lies in the range; IPv4-mapped IPv6 addresses match IPv4 ranges. */
export function cidrContains(range: Cidr, address: string): boolean {
  let ip = parseIp(address);
  if (!ip) return false;
  if (ip.version === 6 && range.version === 4 && ip.value >> 32n === 0xffffn) {
    ip = { version: 4, value: ip.value & 0xffffffffn };
  }
  if (ip.version !== range.version) return false;
  const shift = BigInt((range.version === 4 ? 32 : 128) - range.prefix);
  return ip.value >> shift === range.network >> shift;
}
