// Public face of the upstream clients: the contract, its error and options, and the two engines.
export { createFetchClient, toUpstreamError } from "./fetch-client.ts";
export { createPooledClient } from "./pooled-client.ts";
export {
  type AnswerHooks,
  type BodyOutcome,
  DEFAULT_STREAM_BUFFER,
  DEFAULT_UPSTREAM_OPTIONS,
  type HeaderPairs,
  isStreamingBody,
  type StreamingBody,
  resolveUpstreamOptions,
  type UpstreamClient,
  type UpstreamClientOptions,
  type UpstreamClientStats,
  type UpstreamEngine,
  UpstreamError,
  type UpstreamErrorKind,
  type UpstreamRequest,
  type UpstreamTlsOptions,
} from "./types.ts";
