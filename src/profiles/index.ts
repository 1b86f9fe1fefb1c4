// Platform profiles: the inference servers olla knows, from YAML (built in, or added in a folder).
// Importing this barrel parses the built-in profiles (PROFILES), which only tests and the bench want:
// olla loads the profiles in force through load.ts (startup.ts), and the serving process imports
// profile.ts alone, handed those profiles (handoff.ts).
import { loadProfiles } from "./load.ts";
import type { PlatformProfile } from "./profile.ts";

export { loadProfiles, type ProfileFilter, type ProfileProblem } from "./load.ts";
export {
  AUTO_PROFILE,
  endpointTypeNames,
  type PlatformProfile,
  prefixAdmits,
  profileFor,
} from "./profile.ts";

/** The built-in profiles, unfiltered (tests and the bench). */
export const PROFILES: readonly PlatformProfile[] = loadProfiles().profiles;
