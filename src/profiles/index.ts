// Platform profiles: the inference servers olla knows, from YAML (built in, or added in a folder).
import { loadProfiles } from "./load.ts";
import { AUTO_PROFILE, type PlatformProfile } from "./profile.ts";

export { loadProfiles, type ProfileFilter, type ProfileProblem } from "./load.ts";
export { AUTO_PROFILE, type PlatformProfile } from "./profile.ts";

/** The built-in profiles, unfiltered (tests and defaults). */
export const PROFILES: readonly PlatformProfile[] = loadProfiles().profiles;

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
