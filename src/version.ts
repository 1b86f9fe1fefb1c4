// What this build is: name, version, commit and date (stamped by build.ts), runtime and platform.

import packageJson from "../package.json" with { type: "json" };

declare const OLLA_BUILD_COMMIT: string | undefined;
declare const OLLA_BUILD_DATE: string | undefined;

export interface BuildInfo {
  name: string;
  version: string;
  commit: string;
  date: string;
  runtime: string;
  platform: string;
}

export const BUILD: BuildInfo = {
  name: "olla",
  version: packageJson.version,
  commit: typeof OLLA_BUILD_COMMIT === "string" ? OLLA_BUILD_COMMIT : "dev",
  date: typeof OLLA_BUILD_DATE === "string" ? OLLA_BUILD_DATE : "unknown",
  runtime: `bun ${process.versions.bun}`,
  platform: `${process.platform}/${process.arch}`,
};

/** One line for `olla --version`. */
export function versionLine(build: BuildInfo = BUILD): string {
  return `${build.name} ${build.version} (commit ${build.commit}, built ${build.date}) ${build.runtime} ${build.platform}`;
}
