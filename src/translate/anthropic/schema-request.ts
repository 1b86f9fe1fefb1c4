// The Anthropic Messages API request as olla accepts it (POST /v1/messages and /v1/messages/count_tokens):
// the one definition of the wire format, from which both the validator and the TypeScript types come.
// Objects accept unknown extra keys (cache_control, citations, service_tier ...) so new client fields
// never break a request; only the fields the translation reads are constrained.
import { type Static, type TSchema, Type } from "@sinclair/typebox";

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const TextBlockParam = Type.Object({
  type: Type.Literal("text"),
  text: Type.String(),
});

export const ImageSource = Type.Union([
  Type.Object({
    type: Type.Literal("base64"),
    media_type: Type.Union([
      Type.Literal("image/jpeg"),
      Type.Literal("image/png"),
      Type.Literal("image/gif"),
      Type.Literal("image/webp"),
    ]),
    data: Type.String(),
  }),
  Type.Object({ type: Type.Literal("url"), url: Type.String({ minLength: 1 }) }),
]);

export const ImageBlockParam = Type.Object({
  type: Type.Literal("image"),
  source: ImageSource,
});

export const DocumentSource = Type.Union([
  Type.Object({ type: Type.Literal("text"), media_type: Type.Optional(Type.String()), data: Type.String() }),
  Type.Object({
    type: Type.Literal("base64"),
    media_type: Type.Literal("application/pdf"),
    data: Type.String(),
  }),
  Type.Object({
    type: Type.Literal("content"),
    content: Type.Union([Type.String(), Type.Array(TextBlockParam)]),
  }),
  Type.Object({ type: Type.Literal("url"), url: Type.String() }),
]);

export const DocumentBlockParam = Type.Object({
  type: Type.Literal("document"),
  source: DocumentSource,
  title: Type.Optional(Nullable(Type.String())),
  context: Type.Optional(Nullable(Type.String())),
});

export const ToolUseBlockParam = Type.Object({
  type: Type.Literal("tool_use"),
  id: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  input: Type.Unknown(),
});

export const ToolResultBlockParam = Type.Object({
  type: Type.Literal("tool_result"),
  tool_use_id: Type.String({ minLength: 1 }),
  content: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.Union([TextBlockParam, ImageBlockParam]))]),
  ),
  is_error: Type.Optional(Type.Boolean()),
});

export const ThinkingBlockParam = Type.Object({
  type: Type.Literal("thinking"),
  thinking: Type.String(),
  signature: Type.Optional(Type.String()),
});

export const RedactedThinkingBlockParam = Type.Object({
  type: Type.Literal("redacted_thinking"),
  data: Type.String(),
});

export const ContentBlockParam = Type.Union([
  TextBlockParam,
  ImageBlockParam,
  DocumentBlockParam,
  ToolUseBlockParam,
  ToolResultBlockParam,
  ThinkingBlockParam,
  RedactedThinkingBlockParam,
]);

export const MessageParam = Type.Object({
  role: Type.Union([Type.Literal("user"), Type.Literal("assistant")]),
  content: Type.Union([Type.String(), Type.Array(ContentBlockParam)]),
});

/** A client-defined tool. Anthropic's server tools (web_search_*, bash_*, text_editor_* ...) have no
 *  input_schema and cannot run on a local model, so the schema rejects them with a clear message. */
const SERVER_TOOL = "client tools need an input_schema; Anthropic server tools cannot run on a local model";
export const ToolParam = Type.Object({
  type: Type.Optional(Nullable(Type.Literal("custom", { errorMessage: SERVER_TOOL }))),
  name: Type.String({ minLength: 1 }),
  description: Type.Optional(Type.String()),
  input_schema: Type.Object({}, { errorMessage: SERVER_TOOL }),
});

export const ToolChoice = Type.Union([
  Type.Object({ type: Type.Literal("auto"), disable_parallel_tool_use: Type.Optional(Type.Boolean()) }),
  Type.Object({ type: Type.Literal("any"), disable_parallel_tool_use: Type.Optional(Type.Boolean()) }),
  Type.Object({
    type: Type.Literal("tool"),
    name: Type.String({ minLength: 1 }),
    disable_parallel_tool_use: Type.Optional(Type.Boolean()),
  }),
  Type.Object({ type: Type.Literal("none") }),
]);

export const ThinkingConfig = Type.Union([
  Type.Object({ type: Type.Literal("enabled"), budget_tokens: Type.Integer({ minimum: 0 }) }),
  Type.Object({ type: Type.Literal("disabled") }),
  Type.Object({ type: Type.Literal("adaptive") }),
]);

export const SystemParam = Type.Union([Type.String(), Type.Array(TextBlockParam)]);

/** What count_tokens accepts: the prompt part of a Messages request. */
export const CountTokensRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  messages: Type.Array(MessageParam, { minItems: 1 }),
  system: Type.Optional(SystemParam),
  tools: Type.Optional(Type.Array(ToolParam)),
  tool_choice: Type.Optional(ToolChoice),
  thinking: Type.Optional(ThinkingConfig),
});

// Ranges follow Olla's passthrough validation (temperature up to 2, as the OpenAI side allows),
// which is wider than Anthropic's own 0..1.
export const MessagesRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  max_tokens: Type.Integer({ minimum: 1 }),
  messages: Type.Array(MessageParam, { minItems: 1 }),
  system: Type.Optional(SystemParam),
  stop_sequences: Type.Optional(Type.Array(Type.String())),
  stream: Type.Optional(Type.Boolean()),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  top_k: Type.Optional(Type.Integer({ minimum: 0 })),
  metadata: Type.Optional(Type.Object({ user_id: Type.Optional(Nullable(Type.String())) })),
  tools: Type.Optional(Type.Array(ToolParam)),
  tool_choice: Type.Optional(ToolChoice),
  thinking: Type.Optional(ThinkingConfig),
});

export type TextBlockParam = Static<typeof TextBlockParam>;
export type ImageBlockParam = Static<typeof ImageBlockParam>;
export type DocumentBlockParam = Static<typeof DocumentBlockParam>;
export type ToolUseBlockParam = Static<typeof ToolUseBlockParam>;
export type ToolResultBlockParam = Static<typeof ToolResultBlockParam>;
export type ContentBlockParam = Static<typeof ContentBlockParam>;
export type MessageParam = Static<typeof MessageParam>;
export type ToolParam = Static<typeof ToolParam>;
export type ToolChoice = Static<typeof ToolChoice>;
export type ThinkingConfig = Static<typeof ThinkingConfig>;
export type SystemParam = Static<typeof SystemParam>;
export type CountTokensRequest = Static<typeof CountTokensRequest>;
export type MessagesRequest = Static<typeof MessagesRequest>;
