import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { renderConfigDocs } from "../../../src/config/docs.ts";
import { configSchema, SHIPPED_CONFIG_YAML } from "../../../src/config/index.ts";

const root = join(import.meta.dir, "../../..");

test("docs/configuration.md is current (run `npm run docs` after changing the schema)", () => {
  expect(readFileSync(join(root, "docs/configuration.md"), "utf8")).toBe(renderConfigDocs());
});

test("the reference documents every key with its env name and a description", () => {
  const docs = renderConfigDocs();
  for (const key of [
    "server.port",
    "proxy.load_balancer",
    "translators.anthropic.max_message_size",
    "dashboard.enabled",
  ]) {
    expect(docs).toContain(`| \`${key}\` |`);
  }
  expect(docs).toContain("`OLLA_SERVER_GLOBAL_RATE_LIMIT`");
  expect(docs).not.toMatch(/\| \| *\|\n/);
});

/** The shipped file is documentation of the defaults, not a second source of them. */
test("config/config.yaml agrees with the schema defaults apart from its example endpoints", () => {
  const shipped = parse(SHIPPED_CONFIG_YAML);
  const defaults = configSchema.parse({});
  const fromFile = configSchema.parse({
    ...shipped,
    discovery: { ...shipped.discovery, static: { endpoints: [] } },
  });
  expect(fromFile).toEqual(defaults);
  expect(shipped.discovery.static.endpoints.length).toBeGreaterThan(0);
});
