// HTTP: the server, the route table, and error envelopes per API family.
export { type Cors, type CorsSettings, createCors, OLLA_HEADERS } from "./cors.ts";
export { type ApiFamily, apiFamily, errorBody, errorResponse } from "./errors.ts";
export { type InternalSnapshots, internalRoutes } from "./internal-routes.ts";
export { generateRequestId, requestIdFor } from "./request-id.ts";
export {
  createRouter,
  type Handler,
  type Route,
  type RouteContext,
  type Router,
  type ServerHandle,
} from "./router.ts";
export { createGuard, type GuardOptions, type RateVerdict } from "./guards.ts";
export { type Guard, type HttpServer, ListenError, startHttpServer } from "./server.ts";
export { systemRoutes, type VersionDetails } from "./system-routes.ts";
