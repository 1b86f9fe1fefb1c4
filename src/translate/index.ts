// API translation between client and backend formats; today Anthropic Messages ⇄ OpenAI chat completions.
export * from "./anthropic/index.ts";
