// The inference platforms olla knows, and the /olla/<prefix>/ route names each answers to.
// Matches Olla (Go)'s shipped profiles so existing configs and URLs keep working.

export interface PlatformProfile {
  /** The canonical type name used in `type:` and X-Olla-Backend-Type. */
  name: string;
  /** Route prefixes under /olla/ (the first is the canonical one). */
  prefixes: readonly string[];
  /** Speaks the OpenAI API (so /olla/openai/ may route to it). */
  openaiCompatible: boolean;
  /** Default health probe path when an endpoint sets no health_check_url. */
  healthPath: string;
  /** Default model list path when an endpoint sets no model_url. */
  modelsPath: string;
}

export const PROFILES: readonly PlatformProfile[] = [
  { name: "ollama", prefixes: ["ollama"], openaiCompatible: true, healthPath: "/", modelsPath: "/api/tags" },
  {
    name: "lm-studio",
    prefixes: ["lmstudio", "lm-studio", "lm_studio"],
    openaiCompatible: true,
    healthPath: "/v1/models",
    modelsPath: "/api/v0/models",
  },
  {
    name: "openai-compatible",
    prefixes: ["openai", "openai-compatible"],
    openaiCompatible: true,
    healthPath: "/v1/models",
    modelsPath: "/v1/models",
  },
  {
    name: "vllm",
    prefixes: ["vllm"],
    openaiCompatible: true,
    healthPath: "/health",
    modelsPath: "/v1/models",
  },
  {
    name: "vllm-mlx",
    prefixes: ["vllm-mlx"],
    openaiCompatible: true,
    healthPath: "/health",
    modelsPath: "/v1/models",
  },
  {
    name: "llamacpp",
    prefixes: ["llamacpp", "llama-cpp", "llama_cpp"],
    openaiCompatible: true,
    healthPath: "/health",
    modelsPath: "/v1/models",
  },
  {
    name: "sglang",
    prefixes: ["sglang"],
    openaiCompatible: true,
    healthPath: "/health",
    modelsPath: "/v1/models",
  },
  {
    name: "lmdeploy",
    prefixes: ["lmdeploy"],
    openaiCompatible: true,
    healthPath: "/health",
    modelsPath: "/v1/models",
  },
  {
    name: "litellm",
    prefixes: ["litellm"],
    openaiCompatible: true,
    healthPath: "/health",
    modelsPath: "/v1/models",
  },
  {
    name: "lemonade",
    prefixes: ["lemonade"],
    openaiCompatible: true,
    healthPath: "/api/v1/health",
    modelsPath: "/api/v1/models",
  },
  {
    name: "omlx",
    prefixes: ["omlx"],
    openaiCompatible: true,
    healthPath: "/health",
    modelsPath: "/v1/models",
  },
  {
    name: "docker-model-runner",
    prefixes: ["dmr", "docker-model-runner"],
    openaiCompatible: true,
    healthPath: "/engines/v1/models",
    modelsPath: "/engines/v1/models",
  },
];

/** Used for `type: auto` until the endpoint's real type is known. */
export const AUTO_PROFILE: PlatformProfile = {
  name: "auto",
  prefixes: [],
  openaiCompatible: true,
  healthPath: "/",
  modelsPath: "/v1/models",
};

/** The profile for a configured type name or prefix (case-insensitive); auto for unknown. */
export function profileFor(type: string, profiles: readonly PlatformProfile[] = PROFILES): PlatformProfile {
  const wanted = type.toLowerCase();
  return (
    profiles.find((profile) => profile.name === wanted || profile.prefixes.includes(wanted)) ?? AUTO_PROFILE
  );
}

/** Every spelling accepted in an endpoint's `type:` (names, prefixes, and auto). */
export function endpointTypeNames(profiles: readonly PlatformProfile[] = PROFILES): string[] {
  const names = new Set<string>(["auto"]);
  for (const profile of profiles) {
    names.add(profile.name);
    for (const prefix of profile.prefixes) names.add(prefix);
  }
  return [...names];
}
