// Limits and access: rate limits (local or shared through Redis), client IP resolution behind trusted
// proxies, CIDR allow-lists and client API keys.
export { type ApiKeyGuard, apiKeyGuard, type ApiKeyVerdict } from "./api-keys.ts";
export { allowList, compileCidrs, type IpMatcher } from "./cidr-matcher.ts";
export { type ClientIpOptions, clientIp } from "./client-ip.ts";
export { canonicalIp, formatIp, type IpAddress, ipKey, parseIp } from "./ip-address.ts";
export { type BucketRequest, createLocalBuckets, type LocalBuckets } from "./local-buckets.ts";
export {
  createRateLimiter,
  createSharedRateLimiter,
  type RateDecision,
  type RateLimiter,
  type RateLimitKind,
  type RateLimitOptions,
  type SharedRateLimiter,
} from "./rate-limiter.ts";
export {
  createRedisBuckets,
  type LimitsLogger,
  type RedisBuckets,
  type RedisBucketsOptions,
  type StoreStatus,
} from "./redis-buckets.ts";
export { type BucketResult, bucketRule, type BucketRule } from "./token-bucket.ts";
export {
  createViolations,
  type SecuritySnapshot,
  type ViolationOptions,
  type Violations,
} from "./violations.ts";
