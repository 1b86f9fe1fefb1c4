// Routes that answer model lists from the fleet's catalogue instead of asking one endpoint:
// /olla/api/tags and /olla/api/ps (Ollama), /olla/lmstudio/api/v0/models and api/v1/models (LM Studio), and
// /olla/v1/models (the fleet, or each provider's /v1/models).

import type { Endpoint } from "../endpoints/index.ts";
import { apiFamily, errorResponse } from "../http/errors.ts";
import type { Route } from "../http/router.ts";
import { type PlatformProfile, prefixAdmits } from "../profiles/profile.ts";
import { type ListSource, lmstudioModels, ollamaRunning, ollamaTags, openaiModels } from "./lists.ts";

const json = (body: unknown) => Response.json(body);

/** A provider's list route: the list, or the 404 the provider's other routes give when no endpoint of
 * its platform is configured (configured but down: an empty list). `list` gets the platform's test. */
function providerRoute(
  path: string,
  source: ListSource,
  profile: PlatformProfile,
  list: (admits: (endpoint: Endpoint) => boolean) => unknown,
): Route {
  const admits = prefixAdmits(profile);
  const missing = `no ${profile.name} endpoints are configured`;
  return {
    methods: ["GET"],
    path,
    handler: () =>
      source.endpoints.some(admits)
        ? json(list(admits))
        : errorResponse(apiFamily(path), 404, missing, { code: "no_endpoints" }),
  };
}

export function modelListRoutes(source: ListSource, profiles: readonly PlatformProfile[]): Route[] {
  const any = () => true;
  const ollama = profiles.find((profile) => profile.name === "ollama");
  const routes: Route[] = [
    { methods: ["GET"], path: "/olla/api/tags", handler: () => json(ollamaTags(source)) },
    { methods: ["GET"], path: "/olla/api/ps", handler: () => json(ollamaRunning(source)) },
    { methods: ["GET"], path: "/olla/v1/models", handler: () => json(openaiModels(source, any)) },
    { methods: ["GET"], path: "/olla/proxy/v1/models", handler: () => json(openaiModels(source, any)) },
  ];
  if (ollama) {
    routes.push(
      providerRoute("/olla/ollama/api/tags", source, ollama, () => ollamaTags(source)),
      providerRoute("/olla/ollama/api/ps", source, ollama, () => ollamaRunning(source)),
    );
  }
  const lmstudio = profiles.find((profile) => profile.name === "lm-studio");
  for (const prefix of lmstudio?.prefixes ?? []) {
    routes.push(
      providerRoute(`/olla/${prefix}/api/v0/models`, source, lmstudio!, () => lmstudioModels(source)),
      // LM Studio's newer REST path, answered as Olla does: its OpenAI-style list.
      providerRoute(`/olla/${prefix}/api/v1/models`, source, lmstudio!, (admits) =>
        openaiModels(source, admits),
      ),
    );
  }
  for (const profile of profiles) {
    if (!profile.openaiCompatible) continue;
    for (const prefix of profile.prefixes) {
      routes.push(
        providerRoute(`/olla/${prefix}/v1/models`, source, profile, (admits) => openaiModels(source, admits)),
      );
    }
  }
  return routes;
}
