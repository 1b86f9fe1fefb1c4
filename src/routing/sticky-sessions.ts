// Sticky sessions (proxy.sticky_sessions): a conversation keeps going to the endpoint that served it,
// whose KV cache still holds its prefix. Model routing and the route's scope choose the candidates
// first; the pin only chooses among them, and the balancer picks when there is no usable pin.

import type { Clock, Endpoint } from "../endpoints/index.ts";
import { type KeyMaterial, type KeySource, stickyKeys } from "./sticky-key.ts";
import { createStickyStore } from "./sticky-store.ts";

export { type KeyMaterial, type KeySource, keySourceOf, SESSION_HEADER } from "./sticky-key.ts";

/** What the pin did for a request (X-Olla-Sticky-Session): served by its pinned endpoint (hit), pinned
 * for the first time (miss), moved to another endpoint (repin), or no key to pin by (disabled). */
export type StickyOutcome = "hit" | "miss" | "repin" | "disabled";

export interface StickySettings {
  /** A pin unused this long is dropped (0 = never by time). */
  idleTtlSeconds: number;
  maxSessions: number;
  /** Tried in order; the first that gives a key wins. */
  keySources: readonly KeySource[];
  /** How much of the conversation's JSON the prefix_hash source hashes. */
  prefixHashBytes: number;
}

/** /internal/stats/sticky when on. */
export interface StickyStats {
  enabled: true;
  active_sessions: number;
  insertions: number;
  /** Requests served by the endpoint they were pinned to. */
  hits: number;
  /** Requests with a key that were not: a new session, or one moved (repin). */
  misses: number;
  /** Pins dropped: for room, past their idle TTL, or with an endpoint that left rotation. */
  evictions: number;
  max_sessions: number;
  idle_ttl_seconds: number;
}

export interface StickySessions {
  /** prefix_hash is a source: the body's conversation must be located when it is read. */
  readonly findsConversation: boolean;
  /** The request's key, or undefined when no source gives one. */
  keyOf(material: KeyMaterial): string | undefined;
  /** The endpoint `key` is pinned to (its idle time restarts), if any. */
  pinnedTo(key: string): Endpoint | undefined;
  /** Pins `key` to the endpoint a request is sent to. */
  pin(key: string, endpoint: Endpoint): void;
  /** The outcome of a request answered by `servedBy`, counted in the stats. `pinnedAtStart` is what
   * pinnedTo gave when the request began. */
  outcome(key: string | undefined, pinnedAtStart: Endpoint | undefined, servedBy: Endpoint): StickyOutcome;
  /** Drops the pins of endpoints out of rotation (called when one leaves it). */
  purge(isRoutable: (endpoint: Endpoint) => boolean): number;
  stats(): StickyStats;
}

export function createStickySessions(settings: StickySettings, clock?: Pick<Clock, "now">): StickySessions {
  const store = createStickyStore({
    maxSessions: settings.maxSessions,
    idleTtlMs: settings.idleTtlSeconds * 1000,
    now: clock ? () => clock.now() : undefined,
  });
  const keys = stickyKeys(settings.keySources, settings.prefixHashBytes);
  let hits = 0;
  let misses = 0;
  return {
    findsConversation: settings.keySources.includes("prefix_hash"),
    keyOf: (material) => keys.keyOf(material),
    pinnedTo: (key) => store.get(key),
    pin: (key, endpoint) => store.set(key, endpoint),
    outcome(key, pinnedAtStart, servedBy) {
      if (key === undefined) return "disabled";
      if (pinnedAtStart === servedBy) {
        hits++;
        return "hit";
      }
      misses++;
      return pinnedAtStart === undefined ? "miss" : "repin";
    },
    purge: (isRoutable) => store.purge(isRoutable),
    stats() {
      const counts = store.counts();
      return {
        enabled: true,
        active_sessions: counts.active,
        insertions: counts.insertions,
        hits,
        misses,
        evictions: counts.evictions,
        max_sessions: settings.maxSessions,
        idle_ttl_seconds: settings.idleTtlSeconds,
      };
    },
  };
}
