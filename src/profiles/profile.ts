// A platform profile: how olla talks to one kind of inference server, as plain data the serving
// process can hold without the YAML/zod loader (profile-file.ts reads the files).

export interface PlatformProfile {
  /** The canonical type name used in `type:` and status pages. */
  name: string;
  displayName: string;
  /** Route prefixes under /olla/ (the first is the canonical one). */
  prefixes: readonly string[];
  /** Speaks the OpenAI API. */
  openaiCompatible: boolean;
  /** Default health probe path when an endpoint sets no health_check_url. */
  healthPath: string;
  /** Default model list path when an endpoint sets no model_url. */
  modelsPath: string;
  /** Which parser reads the model list (ollama, lmstudio, openai, vllm, llamacpp, sglang). */
  modelListFormat: string;
  /** Native Anthropic Messages API, when the server has one; requests needing a listed limitation
   * (tools, extended thinking, images) are translated instead of passed through. */
  anthropic?: { messagesPath: string; tokenCount: boolean; limitations: readonly string[] };
}

/** Used for `type: auto` until the endpoint's real platform is known. */
export const AUTO_PROFILE: PlatformProfile = {
  name: "auto",
  displayName: "not detected yet",
  prefixes: [],
  openaiCompatible: true,
  healthPath: "/",
  modelsPath: "/v1/models",
  modelListFormat: "openai",
};

/** The profile for a configured type name or prefix (case-insensitive); auto for unknown. */
export function profileFor(type: string, profiles: readonly PlatformProfile[]): PlatformProfile {
  const wanted = type.toLowerCase();
  return (
    profiles.find((profile) => profile.name === wanted || profile.prefixes.includes(wanted)) ?? AUTO_PROFILE
  );
}

/** Every spelling accepted in an endpoint's `type:` (names, prefixes, and auto). */
export function endpointTypeNames(profiles: readonly PlatformProfile[]): string[] {
  const names = new Set<string>(["auto"]);
  for (const profile of profiles) {
    names.add(profile.name);
    for (const prefix of profile.prefixes) names.add(prefix);
  }
  return [...names];
}

/** The endpoints a provider route prefix (/olla/<prefix>/) admits: its own platform's, a hard boundary,
 * except the generic OpenAI-compatible profile's prefixes (`openai`, `openai-compatible`), which take every
 * endpoint that speaks the OpenAI API, whatever its platform, as in Olla. */
export function prefixAdmits(profile: PlatformProfile): (endpoint: { profile: PlatformProfile }) => boolean {
  if (profile.name === "openai-compatible") return (endpoint) => endpoint.profile.openaiCompatible;
  return (endpoint) => endpoint.profile.name === profile.name;
}
