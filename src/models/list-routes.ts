// Routes that answer model lists from the fleet's catalogue instead of asking one endpoint:
// /olla/api/tags and /olla/api/ps (Ollama), /olla/lmstudio/api/v0/models and api/v1/models (LM Studio), and
// /olla/v1/models (the fleet, or each provider's /v1/models).

import { type ApiFamily, errorResponse } from "../http/errors.ts";
import type { Route } from "../http/router.ts";
import { type PlatformProfile, prefixAdmits } from "../profiles/profile.ts";
import { type ListSource, lmstudioModels, ollamaRunning, ollamaTags, openaiModels } from "./lists.ts";

const json = (body: unknown) => Response.json(body);

/** A provider's list, or the 404 its other routes give when no endpoint of that platform is configured
 * (configured but down: an empty list). */
function providerList(
  source: ListSource,
  profile: PlatformProfile,
  family: ApiFamily,
  list: () => unknown,
): Response {
  const admits = prefixAdmits(profile);
  if (!source.endpoints.some(admits)) {
    return errorResponse(family, 404, `no ${profile.name} endpoints are configured`, {
      code: "no_endpoints",
    });
  }
  return json(list());
}

export function modelListRoutes(source: ListSource, profiles: readonly PlatformProfile[]): Route[] {
  const any = () => true;
  const ollama = profiles.find((profile) => profile.name === "ollama");
  const routes: Route[] = [
    { methods: ["GET"], path: "/olla/api/tags", handler: () => json(ollamaTags(source)) },
    ...(ollama
      ? [
          {
            methods: ["GET"],
            path: "/olla/ollama/api/tags",
            handler: () => providerList(source, ollama, "ollama", () => ollamaTags(source)),
          },
          {
            methods: ["GET"],
            path: "/olla/ollama/api/ps",
            handler: () => providerList(source, ollama, "ollama", () => ollamaRunning(source)),
          },
        ]
      : []),
    { methods: ["GET"], path: "/olla/api/ps", handler: () => json(ollamaRunning(source)) },
    { methods: ["GET"], path: "/olla/v1/models", handler: () => json(openaiModels(source, any)) },
    { methods: ["GET"], path: "/olla/proxy/v1/models", handler: () => json(openaiModels(source, any)) },
  ];
  const lmstudio = profiles.find((profile) => profile.name === "lm-studio");
  for (const prefix of lmstudio?.prefixes ?? []) {
    routes.push({
      methods: ["GET"],
      path: `/olla/${prefix}/api/v0/models`,
      handler: () => providerList(source, lmstudio!, "ollama", () => lmstudioModels(source)),
    });
    // LM Studio's newer REST path, answered as Olla does: its OpenAI-style list.
    const ofLmstudio = prefixAdmits(lmstudio!);
    routes.push({
      methods: ["GET"],
      path: `/olla/${prefix}/api/v1/models`,
      handler: () => providerList(source, lmstudio!, "ollama", () => openaiModels(source, ofLmstudio)),
    });
  }
  for (const profile of profiles) {
    if (!profile.openaiCompatible) continue;
    const ofProfile = prefixAdmits(profile);
    for (const prefix of profile.prefixes) {
      routes.push({
        methods: ["GET"],
        path: `/olla/${prefix}/v1/models`,
        handler: () => providerList(source, profile, "openai", () => openaiModels(source, ofProfile)),
      });
    }
  }
  return routes;
}
