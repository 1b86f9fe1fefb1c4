import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ConfigProblem,
  ENV_ALIASES,
  envNameFor,
  inspectConfig,
  type Leaf,
  type LoadOptions,
  listLeaves,
  loadConfig,
  maskSecrets,
  SHIPPED_CONFIG_YAML,
} from "../../../src/config/index.ts";
import { endpointTypeNames, PROFILES } from "../../../src/profiles/index.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "olla-config-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function yamlFile(text: string): string {
  const file = join(dir, `config-${++fileCount}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Loads with the shipped defaults, an isolated cwd and only the given env. */
function load(options: Partial<LoadOptions> = {}) {
  return inspectConfig({
    defaultsYaml: SHIPPED_CONFIG_YAML,
    knownTypes: endpointTypeNames(PROFILES),
    cwd: dir,
    env: {},
    ...options,
  });
}

function get(root: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], root);
}

const errors = (problems: ConfigProblem[]) => problems.filter((problem) => problem.level === "error");
const warnings = (problems: ConfigProblem[]) => problems.filter((problem) => problem.level === "warning");

describe("layers", () => {
  test("with no file and no env the shipped config.yaml applies over schema defaults", () => {
    const report = load();
    expect(report.problems).toEqual([]);
    expect(report.file).toBeUndefined();
    const config = report.config!;
    expect(config.server.port).toBe(40114);
    expect(config.server.host).toBe("localhost");
    expect(config.proxy.load_balancer).toBe("priority");
    expect(config.server.rate_limits.cleanup_interval).toBe(300_000);
    expect(config.discovery.static.endpoints.map((endpoint) => endpoint.name)).toEqual([
      "local-ollama",
      "local-lm-studio",
      "local-vllm",
    ]);
    expect(report.origins.get("discovery.static.endpoints")).toBe("defaults");
  });

  test("the YAML file overrides defaults key by key; lists replace wholesale", () => {
    const file = yamlFile(`
server:
  port: 8080
proxy:
  load_balancer: round-robin
discovery:
  static:
    endpoints:
      - url: http://127.0.0.1:9999
        name: only-one
`);
    const report = load({ configPath: file });
    expect(errors(report.problems)).toEqual([]);
    const config = report.config!;
    expect(config.server.port).toBe(8080);
    expect(config.server.host).toBe("localhost");
    expect(config.proxy.load_balancer).toBe("round_robin");
    expect(config.discovery.static.endpoints).toHaveLength(1);
    expect(config.discovery.static.endpoints[0]).toMatchObject({ name: "only-one", priority: 50, weight: 1 });
    expect(report.origins.get("server.port")).toBe(file);
  });

  test("env overrides the YAML file, which overrides defaults", () => {
    const file = yamlFile("server:\n  port: 8080\n  host: 0.0.0.0\n");
    const report = load({ configPath: file, env: { OLLA_SERVER_PORT: "9090" } });
    expect(report.config!.server.port).toBe(9090);
    expect(report.config!.server.host).toBe("0.0.0.0");
    expect(report.origins.get("server.port")).toBe("env OLLA_SERVER_PORT");
  });

  test("a full env name wins over its short alias", () => {
    const report = load({
      env: {
        OLLA_SERVER_MAX_BODY_SIZE: "1MB",
        OLLA_SERVER_REQUEST_LIMITS_MAX_BODY_SIZE: "2MB",
      },
    });
    expect(report.config!.server.request_limits.max_body_size).toBe(2 * 1024 ** 2);
  });
});

describe("file lookup", () => {
  test("--config beats OLLA_CONFIG_FILE, which beats the search paths", () => {
    const cwd = mkdtempSync(join(dir, "cwd-"));
    mkdirSync(join(cwd, "config"));
    writeFileSync(join(cwd, "config", "config.yaml"), "server:\n  port: 1001\n");
    expect(load({ cwd }).config!.server.port).toBe(1001);
    writeFileSync(join(cwd, "config", "config.local.yaml"), "server:\n  port: 1002\n");
    expect(load({ cwd }).config!.server.port).toBe(1002);
    const viaEnv = yamlFile("server:\n  port: 1003\n");
    expect(load({ cwd, env: { OLLA_CONFIG_FILE: viaEnv } }).config!.server.port).toBe(1003);
    const viaFlag = yamlFile("server:\n  port: 1004\n");
    const report = load({ cwd, configPath: viaFlag, env: { OLLA_CONFIG_FILE: viaEnv } });
    expect(report.config!.server.port).toBe(1004);
    expect(report.file).toBe(viaFlag);
  });

  test("config.yaml in the working directory is the last place looked", () => {
    const cwd = mkdtempSync(join(dir, "cwd-"));
    writeFileSync(join(cwd, "config.yaml"), "server:\n  port: 1005\n");
    const report = load({ cwd });
    expect(report.file).toBe("config.yaml");
    expect(report.config!.server.port).toBe(1005);
  });

  test("a named file that is missing is an error naming how it was named", () => {
    const report = load({ configPath: join(dir, "nope.yaml") });
    expect(report.config).toBeUndefined();
    expect(errors(report.problems)[0]).toMatchObject({ message: "file not found" });
    expect(errors(report.problems)[0]!.source).toContain("--config");
    const viaEnv = load({ env: { OLLA_CONFIG_FILE: join(dir, "nope.yaml") } });
    expect(errors(viaEnv.problems)[0]!.source).toContain("OLLA_CONFIG_FILE");
  });

  test("invalid YAML is reported with its line and column", () => {
    const file = yamlFile("server:\n  port: 80\n   host: x\n");
    const [problem] = errors(load({ configPath: file }).problems);
    expect(problem!.message).toStartWith("invalid YAML");
    expect(problem!.source).toMatch(new RegExp(`${file}:\\d+:\\d+$`));
  });

  test("a YAML alias bomb is invalid YAML, not a crash", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    const report = load({ configPath: yamlFile(`${levels.join("\n")}\nmodel_aliases: {x: *h}\n`) });
    expect(report.config).toBeUndefined();
    expect(errors(report.problems)).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/^invalid YAML: .*alias/i) }),
    ]);
  });

  test("an empty file is fine; a top-level list is not", () => {
    expect(load({ configPath: yamlFile("") }).config).toBeDefined();
    expect(errors(load({ configPath: yamlFile("- a\n- b\n") }).problems)[0]!.message).toContain(
      "map of sections",
    );
  });
});

/** A valid value, different from the default, for a leaf of each kind; and what it parses to. */
function sample(leaf: Leaf, current: unknown): { raw: string; parsed: unknown } {
  switch (leaf.kind) {
    case "number":
      return { raw: "7", parsed: 7 };
    case "boolean":
      return { raw: current ? "false" : "true", parsed: !current };
    case "duration":
      return { raw: "7s", parsed: 7000 };
    case "size":
      return { raw: "7MiB", parsed: 7 * 1024 ** 2 };
    case "choice": {
      const other = leaf.choices!.find((value) => value !== current) ?? leaf.choices![0]!;
      return { raw: other, parsed: other };
    }
    case "list":
      if (leaf.path === "proxy.sticky_sessions.key_sources")
        return { raw: "ip, Session_Header", parsed: ["ip", "session_header"] };
      return { raw: "10.1.0.0/16, 192.168.7.0/24", parsed: ["10.1.0.0/16", "192.168.7.0/24"] };
    case "map":
      return { raw: '{"fast": ["llama3.2:3b", "qwen3:4b"]}', parsed: { fast: ["llama3.2:3b", "qwen3:4b"] } };
    case "endpoints":
      return {
        raw: '[{"url": "http://127.0.0.1:11434", "name": "env-ollama", "type": "ollama"}]',
        parsed: [
          expect.objectContaining({ url: "http://127.0.0.1:11434", name: "env-ollama", priority: 50 }),
        ],
      };
    default: {
      // Text keys whose values are checked: a valid value of their own.
      if (leaf.path === "server.rate_limits.store")
        return { raw: "redis://127.0.0.1:6390/1", parsed: "redis://127.0.0.1:6390/1" };
      if (leaf.path === "server.auth.api_keys_file") {
        const file = join(dir, "env-keys.txt");
        writeFileSync(file, "k1\n");
        return { raw: file, parsed: file };
      }
      return { raw: "seven", parsed: "seven" };
    }
  }
}

describe("environment variables", () => {
  const defaults = load().config!;
  const leaves = listLeaves();

  test("every key has a derived OLLA_ name", () => {
    expect(leaves.length).toBeGreaterThan(70);
    expect(envNameFor("server.port")).toBe("OLLA_SERVER_PORT");
    expect(envNameFor("proxy.load_balancer")).toBe("OLLA_PROXY_LOAD_BALANCER");
  });

  test.each(leaves.map((leaf) => [envNameFor(leaf.path), leaf] as const))("%s sets its key", (name, leaf) => {
    const { raw, parsed } = sample(leaf, get(defaults, leaf.path));
    const report = load({ env: { [name]: raw } });
    expect(errors(report.problems)).toEqual([]);
    expect(get(report.config, leaf.path)).toEqual(parsed);
    expect(report.origins.get(leaf.path)).toBe(`env ${name}`);
  });

  test.each(Object.entries(ENV_ALIASES))("alias %s sets %s", (name, path) => {
    const leaf = leaves.find((candidate) => candidate.path === path)!;
    const { raw, parsed } = sample(leaf, get(defaults, path));
    const report = load({ env: { [name]: raw } });
    expect(errors(report.problems)).toEqual([]);
    expect(get(report.config, path)).toEqual(parsed);
  });

  test("Olla (Go) logging switches translate to keys", () => {
    const report = load({
      env: { OLLA_PRETTY_LOGS: "true", OLLA_FILE_OUTPUT: "1", OLLA_LOG_DIR: "/var/log/olla/" },
    });
    expect(report.config!.logging).toMatchObject({
      format: "pretty",
      output: "file",
      file: "/var/log/olla/olla.log",
    });
  });

  test("booleans accept the words people write", () => {
    for (const [raw, value] of [
      ["yes", true],
      ["on", true],
      ["1", true],
      ["no", false],
      ["off", false],
      ["FALSE", false],
    ] as const) {
      expect(load({ env: { OLLA_SERVER_CORS_ENABLED: raw } }).config!.server.cors.enabled).toBe(value);
    }
  });

  test("a list can be given as JSON too", () => {
    const report = load({
      env: { OLLA_SERVER_CORS_ALLOWED_ORIGINS: '["https://a.example", "https://b.example"]' },
    });
    expect(report.config!.server.cors.allowed_origins).toEqual(["https://a.example", "https://b.example"]);
  });

  test("an unknown OLLA_ variable is a warning with a suggestion; bootstrap ones are silent", () => {
    const report = load({ env: { OLLA_SERVR_PORT: "1", OLLA_CONFIG_FILE: "", OLLA_SHOW_VERSION: "false" } });
    expect(report.problems).toEqual([
      expect.objectContaining({
        level: "warning",
        source: "env OLLA_SERVR_PORT",
        message: expect.stringContaining("did you mean OLLA_SERVER_PORT?"),
      }),
    ]);
    expect(report.config).toBeDefined();
  });

  test("an OLLA_* variable the config file expands (a secret, not a setting) is not unknown", () => {
    const file = yamlFile(
      'server:\n  auth:\n    api_keys: ["${OLLA_KEY_TEAM_A}", "${OLLA_KEY_TEAM_B:-spare}"]\n',
    );
    const report = load({
      configPath: file,
      env: { OLLA_KEY_TEAM_A: "aaa", OLLA_KEY_TEAM_B: "bbb", OLLA_KEY_TEAM_C: "c" },
    });
    expect(report.config!.server.auth.api_keys).toEqual(["aaa", "bbb"]);
    // The one the file does not name is still unknown.
    expect(warnings(report.problems).map((problem) => problem.source)).toEqual(["env OLLA_KEY_TEAM_C"]);
  });

  test("an unsupported Olla (Go) variable says what to do instead", () => {
    const report = load({ env: { OLLA_LOG_MAX_BACKUPS: "3" } });
    expect(warnings(report.problems)[0]!.message).toContain("logrotate");
    const profile = load({ env: { OLLA_PROXY_PROFILE: "streaming" } });
    expect(warnings(profile.problems).map((problem) => problem.message)).toEqual([
      expect.stringContaining("ignored: olla passes every chunk on as it arrives"),
    ]);
  });

  test("a bad env value names the variable, the value and the expectation", () => {
    const report = load({ env: { OLLA_SERVER_PORT: "eighty", OLLA_PROXY_LOAD_BALANCER: "fastest" } });
    expect(report.config).toBeUndefined();
    expect(errors(report.problems)).toEqual([
      {
        level: "error",
        path: "server.port",
        value: "eighty",
        source: "env OLLA_SERVER_PORT",
        message: "expected a whole number",
      },
      expect.objectContaining({
        path: "proxy.load_balancer",
        value: "fastest",
        source: "env OLLA_PROXY_LOAD_BALANCER",
        message: expect.stringContaining("expected one of priority, round_robin, least_connections"),
      }),
    ]);
  });
});

describe("balancer names", () => {
  test.each([
    ["least_conn", "least_connections"],
    ["least-connections", "least_connections"],
    ["least_connections", "least_connections"],
    ["round_robin", "round_robin"],
    ["round-robin", "round_robin"],
    ["Priority", "priority"],
  ])("%s means %s", (given, meant) => {
    expect(load({ env: { OLLA_PROXY_LOAD_BALANCER: given } }).config!.proxy.load_balancer).toBe(
      meant as never,
    );
  });
});

describe("bad configuration", () => {
  test("wrong types and values name the key path, value, expectation and file", () => {
    const file = yamlFile(`
server:
  port: 70000
  read_timeout: soon
  request_limits:
    max_body_size: lots
proxy:
  engine: turbo
discovery:
  static:
    endpoints:
      - url: http://127.0.0.1:1
        priority: -1
        check_interval: 5
`);
    const report = load({ configPath: file });
    expect(report.config).toBeUndefined();
    const byPath = Object.fromEntries(errors(report.problems).map((problem) => [problem.path, problem]));
    expect(byPath["server.port"]).toMatchObject({
      value: 70000,
      source: file,
      message: "expected a number ≤ 65535",
    });
    expect(byPath["server.read_timeout"]).toMatchObject({
      value: "soon",
      message: expect.stringContaining("duration"),
    });
    expect(byPath["server.request_limits.max_body_size"]!.message).toContain("expected a size");
    expect(byPath["proxy.engine"]!.message).toContain("expected one of olla, sherpa");
    expect(byPath["discovery.static.endpoints[0].priority"]).toMatchObject({ value: -1, source: file });
    expect(byPath["discovery.static.endpoints[0].check_interval"]).toMatchObject({ value: 5 });
  });

  test("unknown keys are warnings that name the key, with a close match suggested", () => {
    const file = yamlFile(`
server:
  prot: 1
  hostname: x
discovery:
  static:
    endpoints:
      - url: http://127.0.0.1:1
        nmae: typo
proxy:
  retrys: 1
`);
    const report = load({ configPath: file });
    expect(errors(report.problems)).toEqual([]);
    const messages = Object.fromEntries(
      warnings(report.problems).map((problem) => [problem.path, problem.message]),
    );
    expect(messages["server.prot"]).toContain("did you mean server.port?");
    expect(messages["server.hostname"]).toContain("unknown key");
    expect(messages["discovery.static.endpoints[0].nmae"]).toContain(
      "did you mean discovery.static.endpoints[0].name?",
    );
    expect(messages["proxy.retrys"]).toContain("unknown key");
    expect(warnings(report.problems).every((problem) => problem.source === file)).toBe(true);
  });

  test("credentials in an endpoint URL are refused with a hint to use auth:", () => {
    const file = yamlFile(
      "discovery:\n  static:\n    endpoints:\n      - url: http://bob:s3cret@127.0.0.1:1\n",
    );
    const [problem] = errors(load({ configPath: file }).problems);
    expect(problem!.path).toBe("discovery.static.endpoints[0].url");
    expect(problem!.message).toContain("auth:");
    expect(problem!.message).not.toContain("s3cret");
  });

  test("duplicate endpoint names, unknown types and check_timeout ≥ check_interval are errors", () => {
    const file = yamlFile(`
discovery:
  static:
    endpoints:
      - {url: "http://127.0.0.1:1", name: a, type: olama}
      - {url: "http://127.0.0.1:2", name: a, check_interval: 2s, check_timeout: 2s}
      - {url: "ftp://127.0.0.1:3", name: c}
`);
    const byPath = Object.fromEntries(
      errors(load({ configPath: file }).problems).map((p) => [p.path, p.message]),
    );
    expect(byPath["discovery.static.endpoints[0].type"]).toContain("unknown endpoint type");
    expect(byPath["discovery.static.endpoints[1].name"]).toContain("duplicate endpoint name");
    expect(byPath["discovery.static.endpoints[1].check_timeout"]).toContain("shorter than check_interval");
    expect(byPath["discovery.static.endpoints[2].url"]).toContain("http:// or https://");
  });

  test("endpoints without a name are named host:port", () => {
    const file = yamlFile("discovery:\n  static:\n    endpoints:\n      - url: http://127.0.0.1:11434\n");
    expect(load({ configPath: file }).config!.discovery.static.endpoints[0]!.name).toBe("127.0.0.1:11434");
  });

  test("CIDRs, CORS and aliases are checked", () => {
    const file = yamlFile(`
server:
  rate_limits:
    trusted_proxy_cidrs: ["10.0.0.0/8", "10.0.0.0/33", "bogus"]
  cors:
    enabled: true
    allow_credentials: true
model_aliases:
  fast: []
`);
    const paths = errors(load({ configPath: file }).problems).map((problem) => problem.path);
    expect(paths).toEqual([
      "server.rate_limits.trusted_proxy_cidrs[1]",
      "server.rate_limits.trusted_proxy_cidrs[2]",
      "server.cors.allow_credentials",
      "model_aliases.fast",
    ]);
  });

  test("header names are checked where they are configured: endpoint headers, auth header, session header", () => {
    const file = yamlFile(`
discovery:
  static:
    endpoints:
      - url: "http://127.0.0.1:1"
        headers: {"X-Fine": a, "bad header": b}
        auth: {type: api_key, key: k, header: "x:key"}
translators:
  anthropic:
    inspector:
      session_header: "bad header"
`);
    const problems = errors(load({ configPath: file }).problems);
    expect(problems.map((problem) => [problem.path, problem.message])).toEqual([
      ["discovery.static.endpoints[0].headers.bad header", "not a valid HTTP header name"],
      ["discovery.static.endpoints[0].auth.header", "not a valid HTTP header name"],
      ["translators.anthropic.inspector.session_header", "not a valid HTTP header name"],
    ]);
  });

  test("aliases and a routing strategy without model discovery are warned about: they would do nothing", () => {
    const file = yamlFile(`
discovery:
  model_discovery:
    enabled: false
model_aliases:
  fast: [llama3.2]
model_registry:
  routing_strategy:
    type: optimistic
`);
    const report = load({ configPath: file });
    expect(errors(report.problems)).toEqual([]);
    expect(warnings(report.problems).map((problem) => [problem.path, problem.message])).toEqual([
      [
        "model_aliases",
        expect.stringContaining("no effect while discovery.model_discovery.enabled is false"),
      ],
      [
        "model_registry.routing_strategy.type",
        expect.stringContaining("no effect while discovery.model_discovery.enabled is false"),
      ],
    ]);
    const withDiscovery = yamlFile("model_aliases:\n  fast: [llama3.2]\n");
    expect(load({ configPath: withDiscovery }).problems).toEqual([]);
  });

  test("durations past 24 days are refused, naming the key: longer timers would fire at once, in a loop", () => {
    const file = yamlFile(`
proxy:
  response_timeout: 720h
discovery:
  model_discovery:
    interval: 577h
  static:
    endpoints:
      - {url: "http://127.0.0.1:1", check_interval: 1000h}
`);
    const problems = errors(load({ configPath: file }).problems);
    expect(problems.map((problem) => [problem.path, problem.message])).toEqual([
      ["proxy.response_timeout", "expected at most 576h (24 days), the longest timer olla can set"],
      [
        "discovery.static.endpoints[0].check_interval",
        "expected at most 576h (24 days), the longest timer olla can set",
      ],
      [
        "discovery.model_discovery.interval",
        "expected at most 576h (24 days), the longest timer olla can set",
      ],
    ]);
    expect(load({ configPath: yamlFile("proxy:\n  response_timeout: 576h\n") }).problems).toEqual([]);
  });

  test("server.host must be an IP address or a host name", () => {
    for (const host of ["localhost", "0.0.0.0", "::", "[::1]", "my-box.lan", "gpu01"]) {
      expect(errors(load({ env: { OLLA_SERVER_HOST: host } }).problems)).toEqual([]);
    }
    for (const host of ["999.1.1.1", "my box", "http://localhost", "-bad-"]) {
      expect(errors(load({ env: { OLLA_SERVER_HOST: host } }).problems).map((p) => p.path)).toEqual([
        "server.host",
      ]);
    }
  });

  test("probe URLs: a path, or an absolute http(s) URL", () => {
    const file = yamlFile(`
discovery:
  static:
    endpoints:
      - {url: "http://127.0.0.1:1", health_check_url: /healthz, model_url: "http://127.0.0.1:9/v1/models"}
      - {url: "http://127.0.0.1:2", health_check_url: "://bad", model_url: "ftp://x/y"}
`);
    expect(errors(load({ configPath: file }).problems).map((p) => [p.path, p.message])).toEqual([
      [
        "discovery.static.endpoints[1].health_check_url",
        "expected a path (/health) or an absolute http:// or https:// URL",
      ],
      [
        "discovery.static.endpoints[1].model_url",
        "expected a path (/health) or an absolute http:// or https:// URL",
      ],
    ]);
  });

  test("burst_size 0 is a minute's allowance, not a refusal: no warning", () => {
    const report = load({
      configPath: yamlFile("server:\n  rate_limits:\n    per_ip_requests_per_minute: 3\n    burst_size: 0\n"),
    });
    expect(report.problems).toEqual([]);
  });

  test("keys Olla (Go) ignored are warned about with the reason", () => {
    const report = load({ configPath: yamlFile("proxy:\n  max_retries: 5\n  retry:\n    enabled: true\n") });
    expect(warnings(report.problems)).toEqual([
      expect.objectContaining({
        path: "proxy.max_retries",
        message: expect.stringContaining("ignored: deprecated"),
      }),
      expect.objectContaining({ path: "proxy.retry", message: expect.stringContaining("ignored: failover") }),
    ]);
    expect(errors(report.problems)).toEqual([]);
  });

  test("keys whose feature is not active yet are accepted with a warning saying so", () => {
    const report = load({
      configPath: yamlFile("model_registry:\n  unification:\n    stale_threshold: 1h\n"),
      env: { OLLA_TRANSLATORS_ANTHROPIC_ENABLED: "false" },
    });
    expect(errors(report.problems)).toEqual([]);
    expect(warnings(report.problems).map((problem) => problem.message)).toEqual([
      "accepted, but models leave the catalogue as soon as their endpoint stops listing them",
    ]);
    expect(report.config!.model_registry.unification.stale_threshold).toBe(3_600_000);
  });

  test("proxy.sticky_sessions: defaults, set from YAML and env, no longer an ignored key", () => {
    expect(load().config!.proxy.sticky_sessions).toEqual({
      enabled: false,
      idle_ttl_seconds: 600,
      max_sessions: 10000,
      key_sources: ["session_header", "prefix_hash", "auth_header"],
      prefix_hash_bytes: 512,
    });
    const report = load({
      configPath: yamlFile(
        "proxy:\n  sticky_sessions:\n    enabled: true\n    idle_ttl_seconds: 0\n    key_sources: [ip, prefix_hash]\n",
      ),
      env: {
        OLLA_PROXY_STICKY_SESSIONS_MAX_SESSIONS: "50",
        OLLA_PROXY_STICKY_SESSIONS_PREFIX_HASH_BYTES: "128",
      },
    });
    expect(report.problems).toEqual([]);
    expect(report.config!.proxy.sticky_sessions).toEqual({
      enabled: true,
      idle_ttl_seconds: 0,
      max_sessions: 50,
      key_sources: ["ip", "prefix_hash"],
      prefix_hash_bytes: 128,
    });
    const byEnv = load({ env: { OLLA_PROXY_STICKY_SESSIONS_ENABLED: "true" } });
    expect(byEnv.problems).toEqual([]);
    expect(byEnv.config!.proxy.sticky_sessions.enabled).toBe(true);
  });

  test("proxy.sticky_sessions: bad values are errors naming the key", () => {
    const report = load({
      configPath: yamlFile(
        [
          "proxy:",
          "  sticky_sessions:",
          "    idle_ttl_seconds: -1",
          "    max_sessions: 0",
          "    prefix_hash_bytes: 0",
          "    key_sources: [session_header, cookie]",
        ].join("\n"),
      ),
    });
    expect(report.config).toBeUndefined();
    expect(errors(report.problems)).toEqual([
      expect.objectContaining({
        path: "proxy.sticky_sessions.idle_ttl_seconds",
        message: "expected a number ≥ 0",
      }),
      expect.objectContaining({
        path: "proxy.sticky_sessions.max_sessions",
        message: "expected a number ≥ 1",
      }),
      expect.objectContaining({
        path: "proxy.sticky_sessions.key_sources[1]",
        value: "cookie",
        message: "expected one of session_header, prefix_hash, auth_header, ip",
      }),
      expect.objectContaining({
        path: "proxy.sticky_sessions.prefix_hash_bytes",
        message: "expected a number ≥ 1",
      }),
    ]);
    const empty = load({
      configPath: yamlFile("proxy:\n  sticky_sessions:\n    enabled: true\n    key_sources: []\n"),
    });
    expect(errors(empty.problems)).toEqual([
      expect.objectContaining({
        path: "proxy.sticky_sessions.key_sources",
        message: expect.stringContaining("at least one source is needed"),
      }),
    ]);
    const twice = load({ env: { OLLA_PROXY_STICKY_SESSIONS_KEY_SOURCES: "ip,ip" } });
    expect(errors(twice.problems)).toEqual([]);
    expect(warnings(twice.problems)).toEqual([
      expect.objectContaining({
        path: "proxy.sticky_sessions.key_sources[1]",
        message: "listed twice; the first one counts",
      }),
    ]);
  });

  test("server.write_timeout is in force: no not-yet-active warning", () => {
    const report = load({ configPath: yamlFile("server:\n  write_timeout: 5m\n") });
    expect(report.problems).toEqual([]);
    expect(report.config!.server.write_timeout).toBe(300_000);
  });

  test("loadConfig throws a ConfigError listing every problem", () => {
    expect(() =>
      loadConfig({
        cwd: dir,
        env: { OLLA_SERVER_PORT: "x", OLLA_PROXY_ENGINE: "y" },
        defaultsYaml: SHIPPED_CONFIG_YAML,
      }),
    ).toThrow(/server\.port[\s\S]*proxy\.engine/);
  });
});

describe("endpoint secrets", () => {
  test("${VAR} and ${VAR:-default} expand in auth and headers", () => {
    const file = yamlFile(`
discovery:
  static:
    endpoints:
      - url: http://127.0.0.1:1
        auth: {type: bearer, token: "\${TOKEN}"}
        headers: {X-Team: "\${TEAM:-ml}", X-Env: "pre-\${STAGE}"}
`);
    const report = load({ configPath: file, env: { TOKEN: "t0k", STAGE: "prod" } });
    const endpoint = report.config!.discovery.static.endpoints[0]!;
    expect(endpoint.auth).toMatchObject({ type: "bearer", token: "t0k" });
    expect(endpoint.headers).toEqual({ "X-Team": "ml", "X-Env": "pre-prod" });
  });

  test("an unset variable without a default is an error", () => {
    const file = yamlFile(`
discovery:
  static:
    endpoints:
      - url: http://127.0.0.1:1
        auth: {type: api_key, key: "\${MISSING_KEY}"}
`);
    const [problem] = errors(load({ configPath: file }).problems);
    expect(problem).toMatchObject({ path: "discovery.static.endpoints[0].auth.key" });
    expect(problem!.message).toContain("MISSING_KEY");
  });

  test("_file secrets are read and trimmed; unreadable or conflicting ones are errors", () => {
    const secretFile = join(dir, "password.txt");
    writeFileSync(secretFile, "hunter2\n");
    const ok = yamlFile(`
discovery:
  static:
    endpoints:
      - url: http://127.0.0.1:1
        auth: {type: basic, username: admin, password_file: ${secretFile}}
`);
    expect(load({ configPath: ok }).config!.discovery.static.endpoints[0]!.auth).toMatchObject({
      username: "admin",
      password: "hunter2",
    });
    const conflicting = yamlFile(`
discovery:
  static:
    endpoints:
      - url: http://127.0.0.1:1
        auth: {type: bearer, token: x, token_file: ${secretFile}}
      - url: http://127.0.0.1:2
        auth: {type: bearer, token_file: ${join(dir, "absent")}}
      - url: http://127.0.0.1:3
        auth: {type: basic, username: admin}
`);
    const messages = errors(load({ configPath: conflicting }).problems).map((p) => `${p.path}: ${p.message}`);
    expect(messages).toEqual([
      "discovery.static.endpoints[0].auth.token: set either token or token_file, not both",
      expect.stringMatching(/^discovery\.static\.endpoints\[1\]\.auth\.token_file: cannot read .*ENOENT/),
      "discovery.static.endpoints[2].auth.password: basic auth needs password or password_file",
    ]);
  });

  test("header values that would break every request (line breaks, controls, past U+00FF) are errors", () => {
    const file = yamlFile(`
discovery:
  static:
    endpoints:
      - url: http://127.0.0.1:1
        headers: {X-Ok: "café\\tand tab", X-Lines: "a\\nb", X-Euro: "€"}
        auth: {type: bearer, token: "a\\nb"}
      - url: http://127.0.0.1:2
        auth: {type: api_key, key: "\${KEY}"}
      - url: http://127.0.0.1:3
        auth: {type: basic, username: "ünïcode€", password: "any\\ttext"}
`);
    const messages = errors(load({ configPath: file, env: { KEY: "k\r\nX-Evil: 1" } }).problems).map(
      (p) => `${p.path}: ${p.message}`,
    );
    const bad = "not a valid header value: no line breaks, control characters or characters past U+00FF";
    expect(messages).toEqual([
      `discovery.static.endpoints[0].headers.X-Lines: ${bad}`,
      `discovery.static.endpoints[0].headers.X-Euro: ${bad}`,
      `discovery.static.endpoints[0].auth.token: ${bad}`,
      `discovery.static.endpoints[1].auth.key: ${bad}`,
    ]);
  });

  test("an unknown auth type lists the known ones", () => {
    const file = yamlFile(
      "discovery:\n  static:\n    endpoints:\n      - {url: 'http://127.0.0.1:1', auth: {type: magic}}\n",
    );
    const [problem] = errors(load({ configPath: file }).problems);
    expect(problem!.path).toBe("discovery.static.endpoints[0].auth.type");
    expect(problem!.message).toBe("expected auth.type to be one of bearer, api_key, basic");
  });
});

describe("client API keys (server.auth)", () => {
  test("inline keys expand ${VAR}; api_keys_file adds one key per line, comments skipped", () => {
    const keysFile = join(dir, "client-keys.txt");
    writeFileSync(keysFile, "# team keys\nkey-from-file-1\n\n  key-from-file-2  \n");
    const file = yamlFile(
      `server:\n  auth:\n    api_keys: ["inline-key", "\${OLLA_TEST_KEY}"]\n    api_keys_file: ${keysFile}\n`,
    );
    const report = load({ configPath: file, env: { OLLA_TEST_KEY: "from-env" } });
    expect(errors(report.problems)).toEqual([]);
    expect(report.config!.server.auth.api_keys).toEqual([
      "inline-key",
      "from-env",
      "key-from-file-1",
      "key-from-file-2",
    ]);
  });

  test("OLLA_SERVER_AUTH_API_KEYS sets them from the environment", () => {
    const report = load({ env: { OLLA_SERVER_AUTH_API_KEYS: "a-key,b-key" } });
    expect(report.config!.server.auth.api_keys).toEqual(["a-key", "b-key"]);
  });

  test("a missing variable, an empty key, an unreadable or empty file: errors naming the key", () => {
    const empty = join(dir, "no-keys.txt");
    writeFileSync(empty, "# nothing yet\n");
    const messages = (yaml: string) =>
      errors(load({ configPath: yamlFile(yaml) }).problems).map((p) => `${p.path}: ${p.message}`);
    expect(messages('server:\n  auth:\n    api_keys: ["${NO_SUCH_VAR}", " "]\n')).toEqual([
      "server.auth.api_keys[0]: environment variable NO_SUCH_VAR is not set",
      "server.auth.api_keys[1]: an API key must not be empty",
    ]);
    expect(messages(`server:\n  auth:\n    api_keys_file: ${join(dir, "absent-keys")}\n`)).toEqual([
      expect.stringMatching(/^server\.auth\.api_keys_file: cannot read .*ENOENT/),
    ]);
    expect(messages(`server:\n  auth:\n    api_keys_file: ${empty}\n`)).toEqual([
      `server.auth.api_keys_file: ${empty} holds no keys`,
    ]);
  });

  test("keys and a Redis password are masked when the config is printed", () => {
    const file = yamlFile(
      "server:\n  auth:\n    api_keys: [sekrit-1, sekrit-2]\n  rate_limits:\n    store: redis://olla:hunter2@127.0.0.1:6379/0\n",
    );
    const masked = maskSecrets(load({ configPath: file }).config!);
    expect(masked.server.auth.api_keys).toEqual(["****", "****"]);
    expect(masked.server.rate_limits.store).not.toContain("hunter2");
  });
});

test("server.read_header_timeout other than Bun's fixed 10 s is accepted with a warning that says so", () => {
  expect(warnings(load().problems)).toEqual([]);
  const report = load({ configPath: yamlFile("server:\n  read_header_timeout: 5s\n") });
  expect(errors(report.problems)).toEqual([]);
  const [warning] = warnings(report.problems);
  expect(warning).toMatchObject({ path: "server.read_header_timeout", value: 5000 });
  expect(warning!.message).toContain("not applied");
});

describe("rate limit store", () => {
  test("memory and redis:// URLs pass; anything else names the key", () => {
    const at = (store: string) =>
      errors(load({ configPath: yamlFile(`server:\n  rate_limits:\n    store: "${store}"\n`) }).problems);
    expect(at("memory")).toEqual([]);
    expect(at("redis://127.0.0.1:6379/0")).toEqual([]);
    expect(at("rediss://cache.internal:6380")).toEqual([]);
    const [problem] = at("memcached://x");
    expect(problem).toMatchObject({ path: "server.rate_limits.store", value: "memcached://x" });
    expect(problem!.message).toContain("redis://");
  });
});
