// Endpoints: their state, health probes and the scheduler that keeps it current.
export {
  type BreakerOptions,
  type BreakerState,
  type CircuitBreaker,
  createCircuitBreaker,
} from "./circuit-breaker.ts";
export { type Clock, systemClock } from "./clock.ts";
export { type Detection, type DetectOptions, detectPlatform } from "./detect-type.ts";
export {
  applyProfile,
  type BreakerSettings,
  createEndpoint,
  type Endpoint,
  endpointId,
  type EndpointStatus,
  isRoutable,
  ROUTABLE_STATUSES,
  resolveEndpointUrl,
} from "./endpoint.ts";
export { type Fetcher, type ProbeResult, probeEndpoint, retryAfterMs } from "./health-probe.ts";
export {
  createHealthScheduler,
  type HealthScheduler,
  type HealthSchedulerOptions,
} from "./health-scheduler.ts";
export { timeAgo } from "./human-format.ts";
export { endpointsSnapshot, fleetVerdict, type SystemInfo, statusSnapshot } from "./status.ts";
