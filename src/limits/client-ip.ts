// The client's IP address for rate limits, allow-lists and logs: the TCP peer, unless the peer is a trusted
// proxy, in which case the forwarding headers it wrote are believed, and only as far as they are trustworthy.

import type { IpMatcher } from "./cidr-matcher.ts";
import { formatIp, type IpAddress, isCanonicalV4, parseIp } from "./ip-address.ts";

export interface ClientIpOptions {
  /** Read X-Forwarded-For / X-Real-IP at all (server.rate_limits.trust_proxy_headers). */
  trustProxyHeaders: boolean;
  /** Peers (and hops) whose forwarding headers are believed (compileCidrs of the config's list). */
  trustedCidrs: IpMatcher;
}

/** Hops examined from the right of X-Forwarded-For: bounds the work a crafted header can cause. */
const MAX_HOPS = 32;

/**
 * Walks X-Forwarded-For from the right: each trusted proxy appended the address it saw, so the first hop
 * that is not trusted is the client. If every hop is trusted, the left-most one is the client. A hop that
 * is not an address stops the walk: whoever wrote the hops to its left is unknown, so none of them counts.
 */
function fromForwardedFor(header: string, trusted: IpMatcher): IpAddress | undefined {
  let end = header.length;
  let leftmostTrusted: IpAddress | undefined;
  for (let hops = 0; end > 0 && hops < MAX_HOPS; hops++) {
    const comma = header.lastIndexOf(",", end - 1);
    const entry = header.slice(comma + 1, end).trim();
    end = comma < 0 ? 0 : comma;
    // Empty list elements are legal HTTP list syntax.
    if (entry === "") continue;
    const ip = parseIp(entry);
    if (!ip) break;
    if (!trusted.contains(ip)) return ip;
    leftmostTrusted = ip;
  }
  return leftmostTrusted;
}

/** The peer's canonical text: the peer's own string when it is canonical already (Bun gives it so for
 * IPv4), as formatting builds a string of many pieces that a waiting request would keep. */
function peerText(peer: string, ip: IpAddress): string {
  const text = formatIp(ip);
  return text === peer ? peer : text;
}

/**
 * The client address in canonical text (IPv4-mapped IPv6 as dotted IPv4, IPv6 per RFC 5952): the TCP
 * `peer`, unless `trustProxyHeaders` is on and the peer lies in `trustedCidrs`; then X-Forwarded-For (see
 * above), else X-Real-IP, else the peer. Header values that are not addresses are ignored. A missing peer
 * (e.g. a Unix socket) is "unknown".
 */
export function clientIp(peer: string | undefined, headers: Headers, options: ClientIpOptions): string {
  if (!peer) return "unknown";
  // The common case, without parsing and formatting the address (about a microsecond per request): a
  // peer given as canonical dotted IPv4, as Bun gives IPv4 peers, is its own answer.
  if (!options.trustProxyHeaders && isCanonicalV4(peer)) return peer;
  const peerIp = parseIp(peer);
  if (!peerIp) return peer;
  if (!options.trustProxyHeaders) return peerText(peer, peerIp);
  const trusted = options.trustedCidrs;
  if (!trusted.contains(peerIp)) return peerText(peer, peerIp);
  const forwardedFor = headers.get("x-forwarded-for");
  const forwarded = forwardedFor ? fromForwardedFor(forwardedFor, trusted) : undefined;
  if (forwarded) return formatIp(forwarded);
  const realIp = headers.get("x-real-ip");
  const real = realIp ? parseIp(realIp.trim()) : undefined;
  return formatIp(real ?? peerIp);
}
