// Client API keys: the key a client presents the way OpenAI, Ollama and Anthropic clients send theirs,
// checked in constant time against the configured keys. (Keeping them from the endpoints is
// proxy/headers.ts's job: CLIENT_CREDENTIALS.)

import { createHash, timingSafeEqual } from "node:crypto";

/** "missing": no key presented; "invalid": a key that matches none. */
export type ApiKeyVerdict = "ok" | "missing" | "invalid";

export interface ApiKeyGuard {
  /** False when no keys are configured: every request passes. */
  readonly enabled: boolean;
  check(headers: Headers): ApiKeyVerdict;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** The keys the request presents, at most one per header; never echoed anywhere. */
function presented(headers: Headers): string[] {
  const keys: string[] = [];
  const authorization = headers.get("authorization")?.trim();
  if (authorization && authorization.length > 7 && authorization.slice(0, 7).toLowerCase() === "bearer ") {
    const key = authorization.slice(7).trim();
    if (key) keys.push(key);
  }
  const apiKey = headers.get("x-api-key")?.trim();
  if (apiKey) keys.push(apiKey);
  return keys;
}

/**
 * A guard for the configured client keys. Compares SHA-256 digests with timingSafeEqual, against every
 * configured key without stopping at a match, so neither a key's length nor its position in the list shows
 * in the timing. Throws (naming the position, never the value) when a configured key is blank.
 */
export function apiKeyGuard(keys: readonly string[]): ApiKeyGuard {
  keys.forEach((key, index) => {
    if (key.trim() === "") throw new Error(`API key #${index + 1} is empty`);
  });
  const digests = keys.map((key) => digest(key.trim()));
  const enabled = digests.length > 0;
  return {
    enabled,
    check(headers) {
      if (!enabled) return "ok";
      const candidates = presented(headers);
      if (candidates.length === 0) return "missing";
      let match = false;
      for (const candidate of candidates) {
        const given = digest(candidate);
        for (const known of digests) match = timingSafeEqual(given, known) || match;
      }
      return match ? "ok" : "invalid";
    },
  };
}
