// Bun settings that can only be given at process start (environment or runtime flags), derived
// from the config. main.ts relaunches itself once with them, so the limits hold without a wrapper,
// and hands the loaded config over (handoff.ts) so the serving process does not load it again.

import type { Config } from "./config/schema.ts";
import { HANDOFF_ENV } from "./handoff.ts";

/** Bun's fetch runs at most 256 requests at once unless told otherwise; lift it for many streams. */
export const FETCH_MAX_REQUESTS = "65535";

/** The environment to relaunch with, or undefined when there is nothing to gain: the current one
 * already has what is needed and there is no hand-off (encoded by handoff.ts) to pass on. */
export function relaunchEnv(
  config: Config,
  env: Record<string, string | undefined>,
  handoff?: string,
): Record<string, string> | undefined {
  const next: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) next[name] = value;
  let changed = false;
  if (handoff !== undefined) {
    next[HANDOFF_ENV] = handoff;
    changed = true;
  }
  if (!next.BUN_CONFIG_MAX_HTTP_REQUESTS) {
    next.BUN_CONFIG_MAX_HTTP_REQUESTS = FETCH_MAX_REQUESTS;
    changed = true;
  }
  // Bun.serve's header limit is a runtime flag (default 16 KiB); server.request_limits.max_header_size sets it.
  const options = next.BUN_OPTIONS ?? "";
  if (!options.includes("--max-http-header-size")) {
    const flag = `--max-http-header-size=${config.server.request_limits.max_header_size}`;
    next.BUN_OPTIONS = options ? `${options} ${flag}` : flag;
    changed = true;
  }
  return changed ? next : undefined;
}
