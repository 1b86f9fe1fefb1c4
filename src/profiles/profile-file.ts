// A profile file in Olla's format, checked with zod and turned into a PlatformProfile. Unknown
// sections such as `detection` or `resources` are ignored.

import { z } from "zod";
import type { PlatformProfile } from "./profile.ts";

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
