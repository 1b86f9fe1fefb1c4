// GET /v1/models in Anthropic's list format, from the names of the models olla can route to.
import type { ModelInfo, ModelList } from "./schema-response.ts";

export interface ModelEntry {
  id: string;
  display_name?: string;
  /** RFC 3339; defaults to the list's `createdAt`. */
  created_at?: string;
}

/**
 * Local models have no release date, so `createdAt` (Olla: the process start) stands in for all of
 * them. One page holds everything: has_more is false.
 */
export function anthropicModelList(
  models: readonly (string | ModelEntry)[],
  createdAt: Date | string,
): ModelList {
  const fallback = typeof createdAt === "string" ? createdAt : rfc3339(createdAt);
  const data: ModelInfo[] = models.map((model) => {
    const entry = typeof model === "string" ? { id: model } : model;
    return {
      type: "model",
      id: entry.id,
      display_name: entry.display_name ?? entry.id,
      created_at: entry.created_at ?? fallback,
    };
  });
  return {
    data,
    has_more: false,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
  };
}

/** Anthropic writes `2025-02-19T00:00:00Z`: seconds, no fraction. */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
