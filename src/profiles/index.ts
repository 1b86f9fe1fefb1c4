// The inference platforms olla knows, and the /olla/<prefix>/ route names each answers to.
// Matches Olla (Go)'s shipped profiles so existing configs and URLs keep working.

export interface PlatformProfile {
  /** The canonical type name used in `type:` and X-Olla-Backend-Type. */
  name: string;
  /** Route prefixes under /olla/ (the first is the canonical one). */
  prefixes: readonly string[];
  /** Speaks the OpenAI API (so /olla/openai/ may route to it). */
  openaiCompatible: boolean;
}

export const PROFILES: readonly PlatformProfile[] = [
  { name: "ollama", prefixes: ["ollama"], openaiCompatible: true },
  { name: "lm-studio", prefixes: ["lmstudio", "lm-studio", "lm_studio"], openaiCompatible: true },
  { name: "openai-compatible", prefixes: ["openai", "openai-compatible"], openaiCompatible: true },
  { name: "vllm", prefixes: ["vllm"], openaiCompatible: true },
  { name: "vllm-mlx", prefixes: ["vllm-mlx"], openaiCompatible: true },
  { name: "llamacpp", prefixes: ["llamacpp", "llama-cpp", "llama_cpp"], openaiCompatible: true },
  { name: "sglang", prefixes: ["sglang"], openaiCompatible: true },
  { name: "lmdeploy", prefixes: ["lmdeploy"], openaiCompatible: true },
  { name: "litellm", prefixes: ["litellm"], openaiCompatible: true },
  { name: "lemonade", prefixes: ["lemonade"], openaiCompatible: true },
  { name: "omlx", prefixes: ["omlx"], openaiCompatible: true },
  { name: "docker-model-runner", prefixes: ["dmr", "docker-model-runner"], openaiCompatible: true },
];

/** Every spelling accepted in an endpoint's `type:` (names, prefixes, and auto). */
export function endpointTypeNames(profiles: readonly PlatformProfile[] = PROFILES): string[] {
  const names = new Set<string>(["auto"]);
  for (const profile of profiles) {
    names.add(profile.name);
    for (const prefix of profile.prefixes) names.add(prefix);
  }
  return [...names];
}
