// What olla sends back on the Anthropic routes: the message, the streamed events, the error envelope,
// the model list and the count_tokens answer, shaped as @anthropic-ai/sdk reads them.
import { type Static, Type } from "@sinclair/typebox";

export const StopReason = Type.Union([
  Type.Literal("end_turn"),
  Type.Literal("max_tokens"),
  Type.Literal("stop_sequence"),
  Type.Literal("tool_use"),
  Type.Literal("refusal"),
]);

export const TextBlock = Type.Object({ type: Type.Literal("text"), text: Type.String() });
export const ThinkingBlock = Type.Object({
  type: Type.Literal("thinking"),
  thinking: Type.String(),
  // Anthropic signs its own thinking; a local model's thinking has no signature, so it is empty.
  signature: Type.String(),
});
export const ToolUseBlock = Type.Object({
  type: Type.Literal("tool_use"),
  id: Type.String(),
  name: Type.String(),
  input: Type.Record(Type.String(), Type.Unknown()),
});
export const ContentBlock = Type.Union([TextBlock, ThinkingBlock, ToolUseBlock]);

export const Usage = Type.Object({
  input_tokens: Type.Integer({ minimum: 0 }),
  output_tokens: Type.Integer({ minimum: 0 }),
  cache_creation_input_tokens: Type.Integer({ minimum: 0 }),
  cache_read_input_tokens: Type.Integer({ minimum: 0 }),
});

export const Message = Type.Object({
  id: Type.String(),
  type: Type.Literal("message"),
  role: Type.Literal("assistant"),
  model: Type.String(),
  content: Type.Array(ContentBlock),
  stop_reason: Type.Union([StopReason, Type.Null()]),
  stop_sequence: Type.Union([Type.String(), Type.Null()]),
  usage: Usage,
});

export const ErrorType = Type.Union([
  Type.Literal("invalid_request_error"),
  Type.Literal("authentication_error"),
  Type.Literal("billing_error"),
  Type.Literal("permission_error"),
  Type.Literal("not_found_error"),
  Type.Literal("request_too_large"),
  Type.Literal("rate_limit_error"),
  Type.Literal("timeout_error"),
  Type.Literal("api_error"),
  Type.Literal("overloaded_error"),
]);

export const ErrorEnvelope = Type.Object({
  type: Type.Literal("error"),
  error: Type.Object({ type: ErrorType, message: Type.String() }),
  request_id: Type.Optional(Type.String()),
});

export const MessageStartEvent = Type.Object({ type: Type.Literal("message_start"), message: Message });
export const ContentBlockStartEvent = Type.Object({
  type: Type.Literal("content_block_start"),
  index: Type.Integer({ minimum: 0 }),
  content_block: ContentBlock,
});
export const BlockDelta = Type.Union([
  Type.Object({ type: Type.Literal("text_delta"), text: Type.String() }),
  Type.Object({ type: Type.Literal("thinking_delta"), thinking: Type.String() }),
  Type.Object({ type: Type.Literal("input_json_delta"), partial_json: Type.String() }),
]);
export const ContentBlockDeltaEvent = Type.Object({
  type: Type.Literal("content_block_delta"),
  index: Type.Integer({ minimum: 0 }),
  delta: BlockDelta,
});
export const ContentBlockStopEvent = Type.Object({
  type: Type.Literal("content_block_stop"),
  index: Type.Integer({ minimum: 0 }),
});
export const MessageDeltaEvent = Type.Object({
  type: Type.Literal("message_delta"),
  delta: Type.Object({
    stop_reason: Type.Union([StopReason, Type.Null()]),
    stop_sequence: Type.Union([Type.String(), Type.Null()]),
  }),
  // Totals for the whole message; the SDK overwrites its snapshot with every field present.
  usage: Type.Object({
    output_tokens: Type.Integer({ minimum: 0 }),
    input_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
    cache_creation_input_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
    cache_read_input_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
});
export const MessageStopEvent = Type.Object({ type: Type.Literal("message_stop") });
export const PingEvent = Type.Object({ type: Type.Literal("ping") });

export const StreamEvent = Type.Union([
  MessageStartEvent,
  ContentBlockStartEvent,
  ContentBlockDeltaEvent,
  ContentBlockStopEvent,
  MessageDeltaEvent,
  MessageStopEvent,
  PingEvent,
  ErrorEnvelope,
]);

export const ModelInfo = Type.Object({
  type: Type.Literal("model"),
  id: Type.String(),
  display_name: Type.String(),
  created_at: Type.String(),
});

export const ModelList = Type.Object({
  data: Type.Array(ModelInfo),
  has_more: Type.Boolean(),
  first_id: Type.Union([Type.String(), Type.Null()]),
  last_id: Type.Union([Type.String(), Type.Null()]),
});

export const CountTokensResponse = Type.Object({ input_tokens: Type.Integer({ minimum: 0 }) });

export type StopReason = Static<typeof StopReason>;
export type TextBlock = Static<typeof TextBlock>;
export type ThinkingBlock = Static<typeof ThinkingBlock>;
export type ToolUseBlock = Static<typeof ToolUseBlock>;
export type ContentBlock = Static<typeof ContentBlock>;
export type Usage = Static<typeof Usage>;
export type Message = Static<typeof Message>;
export type ErrorType = Static<typeof ErrorType>;
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;
export type BlockDelta = Static<typeof BlockDelta>;
export type MessageDeltaEvent = Static<typeof MessageDeltaEvent>;
export type StreamEvent = Static<typeof StreamEvent>;
export type ModelInfo = Static<typeof ModelInfo>;
export type ModelList = Static<typeof ModelList>;
export type CountTokensResponse = Static<typeof CountTokensResponse>;
