// The Anthropic Messages routes, with their code loaded by the first request to one of them. The
// translation and its TypeBox schemas hold about 6 MB of resident memory (3 MB in the binary) that a
// server no Anthropic client talks to should not carry; the first request waits for the import once.

import type { Handler, Route } from "../http/router.ts";
import type { AnthropicOptions } from "./anthropic.ts";
import type { ProxyDeps } from "./handler.ts";
import { traceRequest } from "./translator-trace.ts";

export interface AnthropicHandlers {
  messages: Handler;
  countTokens: Handler;
  models: Handler;
}

export const ANTHROPIC_ROUTES: Record<keyof AnthropicHandlers, Omit<Route, "handler">> = {
  messages: { methods: ["POST"], path: "/olla/anthropic/v1/messages" },
  countTokens: { methods: ["POST"], path: "/olla/anthropic/v1/messages/count_tokens" },
  models: { methods: ["GET"], path: "/olla/anthropic/v1/models" },
};

export function anthropicRoutes(deps: ProxyDeps, options: AnthropicOptions): Route[] {
  let handlers: Promise<AnthropicHandlers> | undefined;
  const load = () =>
    (handlers ??= import("./anthropic.ts").then((module) => module.anthropicHandlers(deps, options)));
  const stats = options.stats;
  return (Object.keys(ANTHROPIC_ROUTES) as (keyof AnthropicHandlers)[]).map((name) => ({
    ...ANTHROPIC_ROUTES[name],
    handler: async (request, context) => {
      // Only messages are counted, as Olla counts them: count_tokens and models are not translated.
      if (name === "messages" && stats) traceRequest(context, "anthropic", stats);
      return (await load())[name](request, context);
    },
  }));
}
