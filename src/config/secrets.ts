// Endpoint credentials: `${VAR}` / `${VAR:-default}` expansion, `*_file` secrets, and masking for output.
// Resolved once at load, so a missing variable or unreadable file stops start-up instead of a request.

import { readFileSync } from "node:fs";
import type { ConfigProblem } from "./problems.ts";
import type { Config, EndpointAuth, EndpointConfig } from "./schema.ts";

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Expands `${VAR}` and `${VAR:-default}` (the default applies when VAR is unset or empty). */
export function expandEnv(
  value: string,
  env: Record<string, string | undefined>,
): { value: string; missing: string[] } {
  const missing: string[] = [];
  const expanded = value.replace(REFERENCE, (_, name: string, fallback: string | undefined) => {
    const found = env[name];
    if (found !== undefined && found !== "") return found;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return "";
  });
  return { value: expanded, missing };
}

/** The variables a config text names in `${VAR}` / `${VAR:-default}`: an OLLA_* one among them holds a
 * secret the file expands (e.g. an API key), not a setting, so it is no unknown variable. */
export function referencedVariables(text: string): Set<string> {
  return new Set(Array.from(text.matchAll(REFERENCE), (match) => match[1]!));
}

/** The inline/file field pairs of each auth type; every pair needs exactly one of the two. */
const AUTH_FIELDS: Record<EndpointAuth["type"], string[]> = {
  bearer: ["token"],
  api_key: ["key"],
  basic: ["username", "password"],
};

/** What a header value may hold: tabs and visible Latin-1, no line breaks (header injection) or other
 * controls. Anything else makes each request to the endpoint throw. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const BAD_VALUE = "not a valid header value: no line breaks, control characters or characters past U+00FF";

/** Resolves an endpoint's auth and headers in place; returns what is wrong. */
function resolveEndpointSecrets(
  endpoint: EndpointConfig,
  path: string,
  env: Record<string, string | undefined>,
  source: string | undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const fail = (key: string, message: string) =>
    problems.push({ level: "error", path: `${path}.${key}`, source, message });

  for (const [name, raw] of Object.entries(endpoint.headers)) {
    const { value, missing } = expandEnv(raw, env);
    if (missing.length) fail(`headers.${name}`, `environment variable ${missing.join(", ")} is not set`);
    else if (!HEADER_VALUE.test(value)) fail(`headers.${name}`, BAD_VALUE);
    endpoint.headers[name] = value;
  }

  const auth = endpoint.auth as Record<string, string | undefined> | undefined;
  if (!auth || !endpoint.auth) return problems;
  for (const field of AUTH_FIELDS[endpoint.auth.type]) {
    const inline = auth[field];
    const file = auth[`${field}_file`];
    if (inline !== undefined && file !== undefined) {
      fail(`auth.${field}`, `set either ${field} or ${field}_file, not both`);
      continue;
    }
    if (inline === undefined && file === undefined) {
      fail(`auth.${field}`, `${endpoint.auth.type} auth needs ${field} or ${field}_file`);
      continue;
    }
    let resolved: string;
    if (file !== undefined) {
      try {
        resolved = readFileSync(file, "utf8").trim();
      } catch (error) {
        fail(`auth.${field}_file`, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
        continue;
      }
    } else {
      const { value, missing } = expandEnv(inline as string, env);
      if (missing.length) {
        fail(`auth.${field}`, `environment variable ${missing.join(", ")} is not set`);
        continue;
      }
      resolved = value;
    }
    const at = `auth.${field}${file !== undefined ? "_file" : ""}`;
    if (resolved === "") {
      fail(at, `${field} is empty`);
      continue;
    }
    // A token or key is sent as it is; basic credentials go base64-encoded, so any text will do.
    if (endpoint.auth.type !== "basic" && !HEADER_VALUE.test(resolved)) {
      fail(at, BAD_VALUE);
      continue;
    }
    auth[field] = resolved;
  }
  return problems;
}

/** Resolves every secret of a validated config in place: endpoint headers and auth, client API keys. */
export function resolveSecrets(
  config: Config,
  env: Record<string, string | undefined>,
  origin: (path: string) => string | undefined,
): ConfigProblem[] {
  const problems = config.discovery.static.endpoints.flatMap((endpoint, index) => {
    const at = `discovery.static.endpoints[${index}]`;
    return resolveEndpointSecrets(endpoint, at, env, origin(at));
  });
  problems.push(...resolveClientKeys(config.server.auth, env, origin));
  return problems;
}

/** server.auth: expands `${VAR}` in each key and appends the keys of api_keys_file (one per line). */
function resolveClientKeys(
  auth: { api_keys: string[]; api_keys_file?: string },
  env: Record<string, string | undefined>,
  origin: (path: string) => string | undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const fail = (path: string, message: string) =>
    problems.push({ level: "error", path, source: origin(path), message });
  const keys: string[] = [];
  auth.api_keys.forEach((raw, index) => {
    const path = `server.auth.api_keys[${index}]`;
    const { value, missing } = expandEnv(raw, env);
    if (missing.length) fail(path, `environment variable ${missing.join(", ")} is not set`);
    else if (value.trim() === "") fail(path, "an API key must not be empty");
    else keys.push(value.trim());
  });
  if (auth.api_keys_file !== undefined) {
    try {
      const lines = readFileSync(auth.api_keys_file, "utf8").split(/\r?\n/);
      const found = lines.map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
      if (found.length === 0) fail("server.auth.api_keys_file", `${auth.api_keys_file} holds no keys`);
      keys.push(...found);
    } catch (error) {
      fail(
        "server.auth.api_keys_file",
        `cannot read ${auth.api_keys_file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
  }
  auth.api_keys = keys;
  return problems;
}

const SECRET_HEADER = /auth|key|token|secret|password|cookie|session/i;
const MASK = "****";

/** A copy of the config safe to print: credentials, secret-looking headers and URL secrets masked. */
export function maskSecrets<T>(value: T, key = ""): T {
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item)) as T;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(value)) {
      if (key === "auth" && name === "api_keys" && Array.isArray(child)) out[name] = child.map(() => MASK);
      else if (key === "auth" && ["token", "key", "username", "password"].includes(name)) out[name] = MASK;
      else if (key === "headers" && SECRET_HEADER.test(name)) out[name] = MASK;
      else out[name] = maskSecrets(child, name);
    }
    return out as T;
  }
  if (typeof value === "string" && (key === "url" || key === "store")) return maskUrl(value) as T;
  return value;
}

/** Masks userinfo and secret-looking query parameters in a URL. */
export function maskUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (url.username) url.username = MASK;
  if (url.password) url.password = MASK;
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_HEADER.test(name)) url.searchParams.set(name, MASK);
  }
  return url.toString();
}
