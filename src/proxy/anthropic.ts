// The Anthropic Messages API on top of the fleet: /olla/anthropic/v1/messages passes the request through
// to endpoints that speak it natively (profile anthropic_support) and translates it to OpenAI chat
// completions for the rest; count_tokens asks a backend that can count, else estimates; models lists
// the fleet's models in Anthropic's format.

import type { Endpoint } from "../endpoints/index.ts";
import type { Logger } from "../log/index.ts";
import { availableModels } from "../routing/index.ts";
import {
  anthropicErrorResponse,
  anthropicModelList,
  clashingLimitations,
  countTokensBody,
  countTokensPath,
  createAnthropicStream,
  estimateInputTokens,
  fromUpstreamError,
  parseCountTokensRequest,
  parseJson,
  readCountTokens,
  STREAM_HEADERS,
  TOKEN_COUNT_HEADER,
  toAnthropicError,
  translateRequest,
  translateResponse,
} from "../translate/index.ts";
import type { AnthropicHandlers } from "./anthropic-routes.ts";
import type { AnswerContext, ApiAdapter, PreparedRequest } from "./api-adapter.ts";
import { adaptedHandler, bodyReadFailure, bodyTimeoutMs, type ProxyDeps, routeModel } from "./handler.ts";
import { inspectBody, readBody, rewriteModel } from "./inspect.ts";
import { upstreamPath } from "./target.ts";
import { traceOf } from "./translator-trace.ts";
import type { FallbackReason, TranslatorStats } from "../stats/translator-stats.ts";

export interface AnthropicOptions {
  passthrough: boolean;
  maxMessageSize: number;
  /** A quiet translated stream gets a `ping` event after this long (keeps clients and proxies patient). */
  pingAfterMs?: number;
  /** Writes each request and answer to the inspector when it is on. */
  inspect?: (entry: InspectorEntry) => void;
  /** The request header that names an inspector session. */
  sessionHeader?: string;
  startedAt: Date;
  /** Counts each /v1/messages request when it is over (/internal/stats/translators). */
  stats?: TranslatorStats;
}

export interface InspectorEntry {
  type: "request" | "response";
  /** The session header's value (translators.anthropic.inspector.session_header), else the request id. */
  session: string;
  requestId: string;
  model?: string;
  body: unknown;
}

const encoder = new TextEncoder();

function errorOf(error: unknown, requestId: string, logger: Logger | undefined): Response {
  const failure = toAnthropicError(error);
  // A fault of olla's own: the client gets a plain 500, the log gets what happened.
  if (failure !== error)
    logger?.error("anthropic request failed", { request_id: requestId, error: String(error) });
  return anthropicErrorResponse(failure.status, failure.message, { type: failure.type, requestId });
}

/** Passthrough when the endpoint speaks Anthropic and has none of the limitations this request runs into. */
function nativePath(endpoint: Endpoint, needs: readonly string[], passthrough: boolean): string | undefined {
  const native = endpoint.profile.anthropic;
  if (!passthrough || !native) return undefined;
  return needs.some((need) => native.limitations.includes(need)) ? undefined : native.messagesPath;
}

/** Why nativePath said no, in Olla's terms (see the README's mapping). */
function fallbackReason(endpoint: Endpoint, passthrough: boolean): FallbackReason {
  if (!passthrough) return "translator_does_not_support_passthrough";
  return endpoint.profile.anthropic ? "cannot_passthrough" : "no_compatible_endpoints";
}

export function anthropicAdapter(options: AnthropicOptions, logger?: Logger): ApiAdapter {
  const pingAfterMs = options.pingAfterMs ?? 5000;
  return {
    maxBodySize: options.maxMessageSize,
    accepts: (endpoint) => endpoint.profile.openaiCompatible || endpoint.profile.anthropic !== undefined,
    prepare(bytes, { requestId, headers: clientHeaders, modelAt, record }): PreparedRequest | Response {
      const session = (options.sessionHeader && clientHeaders.get(options.sessionHeader)) || requestId;
      const trace = traceOf(record);
      let raw: unknown;
      let translated: ReturnType<typeof translateRequest>;
      try {
        raw = parseJson(bytes);
        if (trace) trace.streaming = (raw as { stream?: unknown } | null)?.stream === true;
        translated = translateRequest(raw);
      } catch (error) {
        return errorOf(error, requestId, logger);
      }
      // Until an endpoint is tried, none was found that could take it (routing may still say 404/503).
      if (trace) trace.fallback = "no_compatible_endpoints";
      options.inspect?.({
        type: "request",
        session,
        requestId,
        model: translated.anthropic.model,
        body: raw,
      });
      const needs = clashingLimitations(translated.anthropic);
      const context = { ...translated.context, inputTokens: estimateInputTokens(translated.anthropic) };
      const streamed = translated.anthropic.stream === true;
      const bodies = new Map<string, Uint8Array>();
      return {
        model: translated.anthropic.model,
        forEndpoint(endpoint, backendName) {
          const native = nativePath(endpoint, needs, options.passthrough);
          if (trace) {
            trace.mode = native === undefined ? "translation" : "passthrough";
            trace.fallback = native === undefined ? fallbackReason(endpoint, options.passthrough) : undefined;
          }
          if (native !== undefined) {
            // The client's bytes as they came, with the model renamed if the endpoint calls it otherwise.
            return { path: native, body: rewriteModel(bytes, modelAt, backendName), mode: "passthrough" };
          }
          const name = backendName ?? translated.anthropic.model;
          let body = bodies.get(name);
          if (!body) {
            body = encoder.encode(JSON.stringify({ ...translated.openai, model: name }));
            bodies.set(name, body);
          }
          return { path: "/v1/chat/completions", body, mode: "translation" };
        },
        async respond(response: Response, answer: AnswerContext): Promise<Response> {
          const { headers, release, observer, requestId } = answer;
          headers.delete("content-type");
          if (response.status >= 400 || !streamed) {
            let bytes: Uint8Array;
            try {
              bytes = await response.bytes();
            } catch (error) {
              // The endpoint broke off (cut short, deadline): its failure, not olla's.
              const failure = answer.brokeOff(error);
              return anthropicErrorResponse(failure.status, failure.message, { requestId });
            } finally {
              release();
            }
            observer.whole(bytes);
            let body: unknown = null;
            try {
              body = JSON.parse(new TextDecoder().decode(bytes));
            } catch {
              body = new TextDecoder().decode(bytes);
            }
            if (response.status >= 400) {
              const failure = fromUpstreamError(response.status, body);
              return anthropicErrorResponse(failure.status, failure.message, {
                type: failure.type,
                requestId,
                headers: Object.fromEntries(headers),
              });
            }
            try {
              const message = translateResponse(body, context);
              options.inspect?.({
                type: "response",
                session,
                requestId,
                model: context.model,
                body: message,
              });
              return Response.json(message, { headers });
            } catch (error) {
              return errorOf(error, requestId, logger);
            }
          }
          const stream = createAnthropicStream(context, { pingAfterMs });
          // The endpoint's body feeds the translator; its end (or failure) ends the client's stream.
          response.body?.pipeTo(stream.writable).catch(() => {});
          observer.streaming();
          for (const [name, value] of Object.entries(STREAM_HEADERS)) headers.set(name, value);
          options.inspect?.({
            type: "response",
            session,
            requestId,
            model: context.model,
            body: "(streamed)",
          });
          return new Response(stream.readable, { status: 200, headers });
        },
      };
    },
  };
}

/** The handlers behind ANTHROPIC_ROUTES (anthropic-routes.ts loads this module on first use). */
export function anthropicHandlers(deps: ProxyDeps, options: AnthropicOptions): AnthropicHandlers {
  const adapter = anthropicAdapter(options, deps.logger);
  return {
    messages: adaptedHandler(deps, adapter),
    countTokens: async (request, context) => {
      let bytes: Uint8Array;
      try {
        bytes =
          (await readBody(request, options.maxMessageSize, bodyTimeoutMs(deps, context.record))) ??
          new Uint8Array(0);
      } catch (error) {
        return bodyReadFailure("anthropic", error, options.maxMessageSize, deps.onSizeLimited);
      }
      try {
        const raw = parseJson(bytes);
        const parsed = parseCountTokensRequest(raw);
        context.record.model = parsed.model;
        // A backend that counts natively gives the real figure; anything else gets the estimate.
        const { modelAt } = inspectBody(bytes, "application/json");
        for (const { endpoint, name } of await servingModel(
          deps,
          adapter,
          parsed.model,
          context.record.path,
        )) {
          const native = endpoint.profile.anthropic;
          if (!native?.tokenCount) continue;
          const counted = await askBackend(
            deps,
            endpoint,
            countTokensPath(native.messagesPath),
            rewriteModel(bytes, modelAt, name),
            request,
          );
          if (counted !== undefined) {
            context.record.endpoint = endpoint.name;
            return Response.json(countTokensBody(counted), {
              headers: { [TOKEN_COUNT_HEADER]: "backend", "x-olla-endpoint": endpoint.name },
            });
          }
        }
        return Response.json(countTokensBody(estimateInputTokens(parsed)), {
          headers: { [TOKEN_COUNT_HEADER]: "estimate" },
        });
      } catch (error) {
        return errorOf(error, context.record.requestId, deps.logger);
      }
    },
    models: () => {
      const names = deps.models
        ? availableModels(deps.endpoints, deps.isRoutable, deps.models.catalogue)
        : [];
      return Response.json(anthropicModelList(names, options.startedAt));
    },
  };
}

/** Routable endpoints that can serve `model`, found as /v1/messages finds them (aliases, case, unified
 * names), in routing order, each with its own name for the model where that differs; every routable
 * endpoint of the API while model discovery is off. */
async function servingModel(
  deps: ProxyDeps,
  adapter: ApiAdapter,
  model: string,
  pathname: string,
): Promise<{ endpoint: Endpoint; name?: string }[]> {
  const inScope = deps.endpoints.filter(adapter.accepts);
  if (!deps.models) return inScope.filter(deps.isRoutable).map((endpoint) => ({ endpoint }));
  let route = routeModel(deps.models, model, inScope, deps.isRoutable, pathname, adapter.accepts);
  if (route instanceof Promise) route = await route;
  const { nameOn } = route;
  return route.tiers.flat().map((endpoint) => ({ endpoint, name: nameOn.get(endpoint) }));
}

async function askBackend(
  deps: ProxyDeps,
  endpoint: Endpoint,
  path: string,
  body: Uint8Array,
  request: Request,
): Promise<number | undefined> {
  try {
    const headers = new Headers({ "content-type": "application/json" });
    const version = request.headers.get("anthropic-version");
    if (version) headers.set("anthropic-version", version);
    for (const [name, value] of endpoint.headers) headers.set(name, value);
    const response = await deps.client.request({
      url: endpoint.url,
      path: upstreamPath(endpoint, path, ""),
      method: "POST",
      headers,
      body,
      signal: request.signal,
      deadlineMs: 10_000,
    });
    if (!response.ok) {
      await response.arrayBuffer().catch(() => {});
      return undefined;
    }
    return readCountTokens(await response.json());
  } catch {
    return undefined;
  }
}
