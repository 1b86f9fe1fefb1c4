// Anthropic Messages API ⇄ OpenAI chat completions: request, whole response, stream, errors, count_tokens
// and the model list. Pure functions over web-standard types; the HTTP wiring lives in src/http.
export {
  AnthropicApiError,
  anthropicErrorBody,
  anthropicErrorResponse,
  anthropicErrorType,
  fromUpstreamError,
  toAnthropicError,
} from "./errors.ts";
export {
  parseCountTokensRequest,
  parseJson,
  parseMessagesRequest,
  translateRequest,
  type ResponseContext,
  type TranslatedRequest,
  type TranslateRequestOptions,
} from "./request.ts";
export { clashingLimitations, type Limitation } from "./limitations.ts";
export { toolInput, translateResponse } from "./response.ts";
export {
  createAnthropicStream,
  STREAM_HEADERS,
  type AnthropicStream,
  type AnthropicStreamOptions,
} from "./stream.ts";
export {
  createStreamTranslator,
  type StreamTranslator,
  type StreamTranslatorOptions,
} from "./stream-translator.ts";
export { createStreamSteps, type StreamSteps } from "./stream-events.ts";
export {
  ATTACHMENT_TOKENS,
  countTokensBody,
  countTokensPath,
  estimateInputTokens,
  readCountTokens,
  TOKEN_COUNT_HEADER,
} from "./count-tokens.ts";
export { anthropicModelList, type ModelEntry } from "./models.ts";
// The wire formats (TypeBox schemas and their static types), namespaced: both sides have a `Usage`.
export * as AnthropicResponseSchema from "./schema-response.ts";
export * as OpenAIChatSchema from "./schema-openai.ts";
