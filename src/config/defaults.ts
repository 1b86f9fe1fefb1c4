// The shipped config/config.yaml, embedded at build time: the layer just above the schema defaults.

import shippedConfig from "../../config/config.yaml" with { type: "text" };

export const SHIPPED_CONFIG_YAML: string = shippedConfig;
