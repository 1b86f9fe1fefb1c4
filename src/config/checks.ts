// Rules that span keys or need more than a type: endpoint URLs and names, timeouts, CIDRs, CORS.

import { isIP } from "node:net";
import { compileCidrs } from "../limits/index.ts";
import type { ConfigProblem } from "./problems.ts";
import type { Config } from "./schema.ts";

const SYSTEM_DIRS = ["/", "/etc", "/var", "/usr", "/bin", "/sbin", "/boot", "/sys", "/proc", "/dev", "/root"];

export interface CheckOptions {
  /** Endpoint types the profiles know (plus "auto"); when absent, any type is accepted. */
  knownTypes?: readonly string[];
  /** Key path → where it was set, to name the origin in each problem. */
  origin: (path: string) => string | undefined;
}

/** The default name of an endpoint that has none: its host and port. */
export function defaultEndpointName(url: URL): string {
  return url.port ? `${url.hostname}:${url.port}` : url.hostname;
}

function isCidr(text: string): boolean {
  try {
    compileCidrs([text]);
    return true;
  } catch {
    return false;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

const BUN_HEAD_TIMEOUT_MS = 10_000;

/** A DNS name (not all-numeric labels, so 999.1.1.1 is no name); IP literals are checked with isIP. */
const HOST_NAME =
  /^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** An HTTP header name (RFC 9110 token): anything else makes setting the header throw per request. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function checkConfig(config: Config, options: CheckOptions): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (level: ConfigProblem["level"], path: string, message: string, value?: unknown) =>
    problems.push({
      level,
      path,
      message,
      source: options.origin(path),
      ...(value === undefined ? {} : { value }),
    });

  const headerName = (path: string, name: string) => {
    if (!HEADER_NAME.test(name)) add("error", path, "not a valid HTTP header name", name);
  };

  const names = new Map<string, number>();
  config.discovery.static.endpoints.forEach((endpoint, index) => {
    const at = `discovery.static.endpoints[${index}]`;
    let url: URL | undefined;
    try {
      url = new URL(endpoint.url);
    } catch {
      add("error", `${at}.url`, "expected an absolute http:// or https:// URL", endpoint.url);
    }
    if (url && url.protocol !== "http:" && url.protocol !== "https:") {
      add("error", `${at}.url`, "expected an http:// or https:// URL", endpoint.url);
    }
    if (url && (url.username || url.password)) {
      url.username = "";
      url.password = "";
      add(
        "error",
        `${at}.url`,
        `credentials in endpoint URLs are refused (they leak into logs); use url: ${url.toString()} with auth: {type: basic, username: ..., password: ...} or a bearer token`,
      );
    }
    if (url && !endpoint.name) endpoint.name = defaultEndpointName(url);
    const name = endpoint.name ?? "";
    const first = names.get(name);
    if (first !== undefined) {
      add("error", `${at}.name`, `duplicate endpoint name (also used by endpoints[${first}])`, name);
    } else {
      names.set(name, index);
    }
    if (endpoint.check_timeout >= endpoint.check_interval) {
      add("error", `${at}.check_timeout`, "must be shorter than check_interval", endpoint.check_timeout);
    }
    if (options.knownTypes && !options.knownTypes.includes(endpoint.type.toLowerCase())) {
      add(
        "error",
        `${at}.type`,
        `unknown endpoint type; expected one of ${options.knownTypes.join(", ")}`,
        endpoint.type,
      );
    }
    // A probe path may also be a whole URL; one with another scheme, or broken, would be joined on as a
    // path and probed for ever.
    for (const key of ["health_check_url", "model_url"] as const) {
      const value = endpoint[key];
      if (value !== undefined && value.includes("://") && !isHttpUrl(value)) {
        add(
          "error",
          `${at}.${key}`,
          "expected a path (/health) or an absolute http:// or https:// URL",
          value,
        );
      }
    }
    for (const name of Object.keys(endpoint.headers)) headerName(`${at}.headers.${name}`, name);
    if (endpoint.auth?.type === "api_key") headerName(`${at}.auth.header`, endpoint.auth.header);
  });

  const cidrLists: [string, string[]][] = [
    ["server.rate_limits.trusted_proxy_cidrs", config.server.rate_limits.trusted_proxy_cidrs],
    ["dashboard.access_policy.allowed_cidrs", config.dashboard.access_policy.allowed_cidrs],
  ];
  for (const [path, cidrs] of cidrLists) {
    cidrs.forEach((cidr, index) => {
      if (!isCidr(cidr))
        add("error", `${path}[${index}]`, "expected an IP range such as 10.0.0.0/8 or ::1/128", cidr);
    });
  }
  if (config.dashboard.enabled && config.dashboard.access_policy.allowed_cidrs.length === 0) {
    add(
      "error",
      "dashboard.access_policy.allowed_cidrs",
      "the dashboard is enabled, so at least one range is needed",
    );
  }

  // Bun reads request heads itself, under a fixed 10 s limit that no option changes (measured).
  if (config.server.read_header_timeout !== BUN_HEAD_TIMEOUT_MS) {
    add(
      "warning",
      "server.read_header_timeout",
      "not applied: Bun allows every request head 10 s, a fixed limit (silent and trickling clients are cut then)",
      config.server.read_header_timeout,
    );
  }

  const store = config.server.rate_limits.store;
  if (store !== "memory" && !/^rediss?:\/\/[^/]/.test(store)) {
    add(
      "error",
      "server.rate_limits.store",
      "expected memory, or a Redis URL such as redis://127.0.0.1:6379/0",
      store,
    );
  }

  const cors = config.server.cors;
  if (cors.enabled && cors.allowed_origins.length === 0) {
    add("error", "server.cors.allowed_origins", "CORS is enabled, so at least one origin is needed");
  }
  if (cors.enabled && cors.allow_credentials && cors.allowed_origins.includes("*")) {
    add(
      "error",
      "server.cors.allow_credentials",
      "browsers refuse credentials with origin *; list the origins",
    );
  }

  // Aliases and the routing strategy act on the model lists discovery builds; without it they do nothing.
  if (!config.discovery.model_discovery.enabled) {
    const needsLists =
      "has no effect while discovery.model_discovery.enabled is false: olla routes by model only from the lists discovery fetches";
    if (Object.keys(config.model_aliases).length > 0) add("warning", "model_aliases", needsLists);
    if (config.model_registry.routing_strategy.type !== "strict") {
      add(
        "warning",
        "model_registry.routing_strategy.type",
        needsLists,
        config.model_registry.routing_strategy.type,
      );
    }
  }

  const host = config.server.host;
  if (isIP(host.replace(/^\[(.*)\]$/, "$1")) === 0 && !HOST_NAME.test(host)) {
    add("error", "server.host", "expected an IP address or a host name (0.0.0.0 for all interfaces)", host);
  }

  headerName(
    "translators.anthropic.inspector.session_header",
    config.translators.anthropic.inspector.session_header,
  );

  const sticky = config.proxy.sticky_sessions;
  if (sticky.enabled && sticky.key_sources.length === 0) {
    add(
      "error",
      "proxy.sticky_sessions.key_sources",
      "sticky sessions are enabled, so at least one source is needed (session_header, prefix_hash, auth_header, ip)",
    );
  }
  sticky.key_sources.forEach((source, index) => {
    if (sticky.key_sources.indexOf(source) !== index)
      add(
        "warning",
        `proxy.sticky_sessions.key_sources[${index}]`,
        "listed twice; the first one counts",
        source,
      );
  });

  for (const [alias, targets] of Object.entries(config.model_aliases)) {
    if (alias.trim() !== alias || alias === "") {
      add("error", `model_aliases.${alias}`, "alias names may not be empty or have surrounding spaces");
    }
    if (targets.length === 0 || targets.some((target) => target.trim() === "")) {
      add("error", `model_aliases.${alias}`, "expected a non-empty list of model names", targets);
    }
  }

  const inspectorDir = config.translators.anthropic.inspector.output_dir.replace(/[\\/]+$/, "") || "/";
  if (SYSTEM_DIRS.includes(inspectorDir) || /^[A-Za-z]:\\(Windows|Program Files)/i.test(inspectorDir)) {
    add(
      "error",
      "translators.anthropic.inspector.output_dir",
      "refusing to write into a system directory",
      inspectorDir,
    );
  }
  return problems;
}
