// The Lua script that takes tokens from Redis-held buckets in one atomic step: the same arithmetic as
// token-bucket.ts, so that every replica sharing the Redis sees one set of buckets.

import { createHash } from "node:crypto";
import { EPSILON_MS } from "./token-bucket.ts";

/**
 * KEYS: the buckets. ARGV[1]: the caller's clock in ms, or "" for the Redis clock. ARGV[2k], ARGV[2k+1]:
 * interval and window (ms) of KEYS[k]. Each key holds its "full at" time and expires when the bucket is
 * full again, so idle buckets cost Redis nothing. Consumes from all buckets or from none.
 * Returns {all allowed (1|0), now, then per key: "full at" after the attempt, own verdict (1|0)}; times
 * as strings (%.17g: the exact double, so Lua and JS agree to the bit) because Redis truncates Lua numbers
 * to integers.
 */
export const BUCKET_SCRIPT = `
local now
if ARGV[1] == '' then
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
else
  now = tonumber(ARGV[1])
end
local base, own, all = {}, {}, 1
for i = 1, #KEYS do
  local at = tonumber(redis.call('GET', KEYS[i])) or now
  if at < now then at = now end
  base[i] = at
  if at + tonumber(ARGV[2 * i]) - now <= tonumber(ARGV[2 * i + 1]) + ${EPSILON_MS} then
    own[i] = 1
  else
    own[i] = 0
    all = 0
  end
end
local out = {all, string.format('%.17g', now)}
for i = 1, #KEYS do
  local at = base[i]
  if all == 1 then
    at = at + tonumber(ARGV[2 * i])
    redis.call('SET', KEYS[i], string.format('%.17g', at), 'PX', math.max(1, math.ceil(at - now)))
  end
  out[#out + 1] = string.format('%.17g', at)
  out[#out + 1] = own[i]
end
return out
`;

/** For EVALSHA: Redis names a cached script by the SHA-1 of its text. */
export const BUCKET_SCRIPT_SHA = createHash("sha1").update(BUCKET_SCRIPT).digest("hex");
