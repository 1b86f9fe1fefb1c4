// Starts olla in-process (the real app and Bun.serve) on 127.0.0.1:0 with a YAML config, for
// integration tests that need to look inside (endpoint state, logs) or run many scenarios fast.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, startApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { type PlatformProfile, PROFILES } from "../../src/profiles/index.ts";

export interface TestOlla {
  url: string;
  app: App;
  /** Every log record so far. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** `yaml` is a config file body; env entries override it as OLLA_* variables would; `profiles` are the
 * platforms in force (the built-in ones unless a test needs one changed, as a profiles folder would). */
export async function startTestOlla(
  yaml: string,
  env: Record<string, string> = {},
  profiles: readonly PlatformProfile[] = PROFILES,
): Promise<TestOlla> {
  const dir = mkdtempSync(join(tmpdir(), "olla-app-"));
  const file = join(dir, "config.yaml");
  writeFileSync(file, yaml);
  const { config } = loadConfig({
    configPath: file,
    cwd: dir,
    env: { OLLA_SERVER_HOST: "127.0.0.1", OLLA_SERVER_PORT: "0", ...env },
  });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "debug",
    format: "json",
    write: (line) => logs.push(JSON.parse(line)),
  });
  const app = await startApp(config, logger, profiles);
  return {
    url: app.server.url.toString().replace(/\/$/, ""),
    app,
    logs,
    async stop() {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** YAML for a list of endpoints: [name, url, type, priority?]. */
export function endpointsYaml(
  endpoints: { name: string; url: string; type: string; priority?: number; extra?: string }[],
  extra = "",
): string {
  const items = endpoints
    .map(
      (endpoint) =>
        `      - name: ${endpoint.name}\n        url: ${endpoint.url}\n        type: ${endpoint.type}\n` +
        `        priority: ${endpoint.priority ?? 50}\n        check_interval: 1s\n        check_timeout: 500ms\n` +
        (endpoint.extra ?? ""),
    )
    .join("");
  return `discovery:\n  static:\n    endpoints:\n${items}${extra}`;
}
