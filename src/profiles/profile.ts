// A platform profile: how olla talks to one kind of inference server. Read from YAML files in
// Olla's profile format (unknown sections such as `detection` or `resources` are ignored).

import { z } from "zod";

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

const path = z
  .string({ error: "expected a path such as /v1/models" })
  .startsWith("/", { error: "expected a path starting with /" });

/** The fields olla uses, with Olla's key names. */
export const profileFileSchema = z.object({
  name: z.string({ error: "expected the profile's name" }).regex(/^[a-z0-9][a-z0-9._-]*$/, {
    error: "expected a lower-case name (letters, digits, . _ -)",
  }),
  display_name: z.string().optional(),
  routing: z.object(
    {
      prefixes: z
        .array(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, { error: "expected a lower-case URL prefix" }))
        .min(1, { error: "expected at least one prefix" }),
    },
    { error: "expected routing.prefixes" },
  ),
  api: z.object(
    {
      openai_compatible: z.boolean().default(true),
      health_check_path: path,
      model_discovery_path: path,
      anthropic_support: z
        .object({
          enabled: z.boolean().default(false),
          messages_path: path.default("/v1/messages"),
          token_count: z.boolean().default(false),
          limitations: z
            .array(z.enum(["no_tool_use", "no_extended_thinking", "no_vision"]), {
              error: "expected a list of no_tool_use, no_extended_thinking, no_vision",
            })
            .default([]),
        })
        .optional(),
    },
    { error: "expected an api section" },
  ),
  request: z.object({ response_format: z.string().default("openai") }).prefault({}),
});

export function toProfile(file: z.output<typeof profileFileSchema>): PlatformProfile {
  const anthropic = file.api.anthropic_support;
  return {
    name: file.name,
    displayName: file.display_name ?? file.name,
    prefixes: file.routing.prefixes,
    openaiCompatible: file.api.openai_compatible,
    healthPath: file.api.health_check_path,
    modelsPath: file.api.model_discovery_path,
    modelListFormat: file.request.response_format,
    ...(anthropic?.enabled
      ? {
          anthropic: {
            messagesPath: anthropic.messages_path,
            tokenCount: anthropic.token_count,
            limitations: anthropic.limitations,
          },
        }
      : {}),
  };
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
