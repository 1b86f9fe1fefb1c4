// Endpoints for unit tests, built through the real config schema so defaults match production.

import { endpointSchema } from "../../src/config/schema.ts";
import { createEndpoint, type Endpoint, type EndpointStatus } from "../../src/endpoints/index.ts";
import { PROFILES } from "../../src/profiles/index.ts";

export function testEndpoint(
  fields: Record<string, unknown> & { url?: string },
  state: { status?: EndpointStatus; inFlight?: number } = {},
): Endpoint {
  const config = endpointSchema.parse({ url: "http://127.0.0.1:11434", ...fields });
  const endpoint = createEndpoint(config, PROFILES);
  endpoint.status = state.status ?? "healthy";
  endpoint.inFlight = state.inFlight ?? 0;
  return endpoint;
}
