// The sticky-session pins: key → endpoint, bounded by count (least recently used goes first) and by
// idle time (each use restarts it). A Map keeps insertion order, and every use re-inserts, so its
// first entry is always the least recently used: with one idle TTL for all, also the first to expire.

import type { Endpoint } from "../endpoints/index.ts";

export interface StickyStoreOptions {
  /** Pins kept at most; the least recently used one makes room. */
  maxSessions: number;
  /** A pin unused this long is gone (0 = pins never expire by time). */
  idleTtlMs: number;
  /** Milliseconds now (injectable for tests). */
  now?: () => number;
}

export interface StickyStoreCounts {
  /** Pins held now (expired ones not counted). */
  active: number;
  /** New keys pinned. */
  insertions: number;
  /** Pins dropped: for room, past their idle TTL, or purged with their endpoint. */
  evictions: number;
}

export interface StickyStore {
  /** The endpoint pinned to `key`, its idle TTL restarted; undefined when none (or it expired). */
  get(key: string): Endpoint | undefined;
  /** Pins `key` to `endpoint` (a new pin, or a move), as just used. */
  set(key: string, endpoint: Endpoint): void;
  /** Drops every pin whose endpoint `keep` refuses; returns how many went. */
  purge(keep: (endpoint: Endpoint) => boolean): number;
  counts(): StickyStoreCounts;
}

/** One pin, updated in place on each use. */
interface Pin {
  endpoint: Endpoint;
  usedAt: number;
}

export function createStickyStore(options: StickyStoreOptions): StickyStore {
  const { maxSessions, idleTtlMs } = options;
  const now = options.now ?? Date.now;
  const pins = new Map<string, Pin>();
  let insertions = 0;
  let evictions = 0;

  const expired = (pin: Pin, at: number) => idleTtlMs > 0 && at - pin.usedAt >= idleTtlMs;

  /** Drops expired pins from the front (the oldest uses), stopping at the first live one. */
  const dropExpired = (at: number) => {
    if (idleTtlMs <= 0) return;
    for (const [key, pin] of pins) {
      if (!expired(pin, at)) return;
      pins.delete(key);
      evictions++;
    }
  };

  return {
    get(key) {
      const pin = pins.get(key);
      if (pin === undefined) return undefined;
      const at = now();
      pins.delete(key);
      if (expired(pin, at)) {
        evictions++;
        return undefined;
      }
      pin.usedAt = at;
      pins.set(key, pin);
      return pin.endpoint;
    },
    set(key, endpoint) {
      const at = now();
      const pin = pins.get(key);
      if (pin !== undefined) {
        pins.delete(key);
        if (!expired(pin, at)) {
          pin.endpoint = endpoint;
          pin.usedAt = at;
          pins.set(key, pin);
          return;
        }
        evictions++;
      }
      // A new key: expired pins make room first, then the least recently used ones.
      dropExpired(at);
      for (const oldest of pins.keys()) {
        if (pins.size < maxSessions) break;
        pins.delete(oldest);
        evictions++;
      }
      pins.set(key, { endpoint, usedAt: at });
      insertions++;
    },
    purge(keep) {
      let dropped = 0;
      for (const [key, pin] of pins) {
        if (keep(pin.endpoint)) continue;
        pins.delete(key);
        dropped++;
      }
      evictions += dropped;
      return dropped;
    },
    counts() {
      dropExpired(now());
      return { active: pins.size, insertions, evictions };
    },
  };
}
