// Configuration: the schema, layered loading, and helpers to show it.
export { SHIPPED_CONFIG_YAML } from "./defaults.ts";
export { renderConfig } from "./display.ts";
export { BOOTSTRAP_ENV, ENV_ALIASES, envNameFor, envNames } from "./env.ts";
export {
  type ConfigReport,
  findConfigFile,
  inspectConfig,
  type KnownTypes,
  type LoadOptions,
  loadConfig,
} from "./load.ts";
export { ConfigError, type ConfigProblem, formatProblem } from "./problems.ts";
export { type Config, configSchema, type EndpointAuth, type EndpointConfig } from "./schema.ts";
export { maskSecrets, maskUrl } from "./secrets.ts";
export { formatDuration, formatSize, parseDuration, parseSize } from "./units.ts";
export { type Leaf, listLeaves } from "./walk.ts";
