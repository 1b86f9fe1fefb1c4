// Platform profiles: the inference servers olla knows, from YAML (built in, or added in a folder).
// This barrel loads YAML with zod; the serving process imports profile.ts alone and is handed the
// profiles in force (see handoff.ts).
import { loadProfiles } from "./load.ts";
import type { PlatformProfile } from "./profile.ts";

export { loadProfiles, type ProfileFilter, type ProfileProblem } from "./load.ts";
export { AUTO_PROFILE, endpointTypeNames, type PlatformProfile, profileFor } from "./profile.ts";

/** The built-in profiles, unfiltered (tests and the config docs). */
export const PROFILES: readonly PlatformProfile[] = loadProfiles().profiles;
