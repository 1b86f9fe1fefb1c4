// The official Anthropic SDK pointed at a test olla, as Claude Code and other clients point it, and a
// plain JSON POST for requests the SDK would refuse to send or would retry.

import Anthropic from "@anthropic-ai/sdk";

export function anthropicClient(ollaUrl: string): Anthropic {
  return new Anthropic({
    baseURL: `${ollaUrl}/olla/anthropic`,
    apiKey: "unused",
    maxRetries: 0,
    timeout: 10_000,
  });
}

/** POSTs `body` as JSON. */
export const postJson = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
