// The configuration reference (docs/configuration.md), rendered from the schema so it cannot drift.

import { ENV_ALIASES, envNameFor } from "./env.ts";
import { displayValue } from "./fields.ts";
import { authSchema, configSchema, endpointSchema, NOT_YET_ACTIVE, notYetActiveSection } from "./schema.ts";
import { listLeaves } from "./walk.ts";

function cell(value: unknown): string {
  if (value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return `\`${text.replaceAll("|", "\\|")}\``;
}

function valueAt(root: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
}

export function renderConfigDocs(): string {
  const defaults = configSchema.parse({});
  const aliasesOf = new Map<string, string[]>();
  for (const [alias, path] of Object.entries(ENV_ALIASES))
    aliasesOf.set(path, [...(aliasesOf.get(path) ?? []), alias]);

  const lines = [
    "# Configuration reference",
    "",
    "Generated from `src/config/schema.ts` by `npm run docs`; do not edit by hand.",
    "",
    "Layers, later wins: schema defaults, the shipped `config/config.yaml` (embedded in the binary), your YAML",
    "file (`--config`, `$OLLA_CONFIG_FILE`, or the first of `config/config.local.yaml`, `config/config.yaml`,",
    "`config.yaml`), then `OLLA_*` environment variables. Sections merge key by key; lists and maps replace.",
    "",
    "Durations: `500ms`, `5s`, `15m`, `1h30m` (`0` for none). Sizes: `50MB`, `1MiB`, `512KB` or bytes; KB/MB/GB are",
    "binary (1 MB = 1,048,576 bytes) as in Olla. Booleans: `true/false`, `yes/no`, `on/off`, `1/0`. In env vars,",
    "lists are comma-separated (or JSON), maps and the endpoint list are JSON or YAML flow.",
  ];
  const tableHead = ["| key | env | default | meaning |", "|---|---|---|---|"];
  let section = "";
  for (const leaf of listLeaves()) {
    const top = leaf.path.split(".")[0] as string;
    if (top !== section) {
      section = top;
      lines.push("", `## \`${top}\``, "", ...tableHead);
    }
    const env = [envNameFor(leaf.path), ...(aliasesOf.get(leaf.path) ?? [])]
      .map((name) => `\`${name}\``)
      .join("<br>");
    const fallback = displayValue(leaf.kind, valueAt(defaults, leaf.path));
    const allowed = leaf.choices ? ` One of: ${leaf.choices.map((c) => `\`${c}\``).join(", ")}.` : "";
    const inactive = notYetActiveSection(leaf.path);
    const note = inactive ? ` **Accepted, not active yet:** ${NOT_YET_ACTIVE[inactive]}.` : "";
    lines.push(`| \`${leaf.path}\` | ${env} | ${cell(fallback)} | ${leaf.doc}${allowed}${note} |`);
    if (leaf.kind === "endpoints") {
      // Endpoint entries get their own table, then the section's table resumes.
      lines.push(
        "",
        "### Endpoint entries (`discovery.static.endpoints[]`)",
        "",
        "| key | default | meaning |",
        "|---|---|---|",
      );
      // Parsed with a placeholder url (required, so it has no default), and auth with each type, whose
      // variants carry the defaults of their own keys (api_key's header).
      const entryDefaults = endpointSchema.parse({ url: "http://placeholder" });
      const authDefaults = Object.assign(
        {},
        ...["bearer", "api_key", "basic"].map((type) => authSchema.parse({ type })),
        { type: undefined },
      );
      for (const field of listLeaves(endpointSchema)) {
        const value =
          field.path === "url"
            ? undefined
            : field.path.startsWith("auth.")
              ? valueAt({ auth: authDefaults }, field.path)
              : valueAt(entryDefaults, field.path);
        const shown = displayValue(field.kind, value);
        lines.push(`| \`${field.path}\` | ${cell(shown)} | ${field.doc} |`);
      }
      lines.push("", ...tableHead);
    }
  }
  return `${lines.join("\n")}\n`;
}
