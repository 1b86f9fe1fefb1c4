// The official Anthropic SDK pointed at a test olla, as Claude Code and other clients point it.

import Anthropic from "@anthropic-ai/sdk";

export function anthropicClient(ollaUrl: string): Anthropic {
  return new Anthropic({
    baseURL: `${ollaUrl}/olla/anthropic`,
    apiKey: "unused",
    maxRetries: 0,
    timeout: 10_000,
  });
}
