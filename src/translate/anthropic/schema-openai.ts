// The OpenAI chat-completions shapes on the backend side: the request olla builds, and the completion,
// stream chunk and error body it reads back. The read side is lenient on purpose (vLLM, llama.cpp,
// Ollama, LM Studio, SGLang each add or null out fields); it pins only the types of what it reads.
import { type Static, type TSchema, Type } from "@sinclair/typebox";

const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

// ---- request (built by olla) ----

export const ContentPart = Type.Union([
  Type.Object({ type: Type.Literal("text"), text: Type.String() }),
  Type.Object({ type: Type.Literal("image_url"), image_url: Type.Object({ url: Type.String() }) }),
  Type.Object({
    type: Type.Literal("file"),
    file: Type.Object({ filename: Type.Optional(Type.String()), file_data: Type.String() }),
  }),
]);

export const ToolCall = Type.Object({
  id: Type.String(),
  type: Type.Literal("function"),
  function: Type.Object({ name: Type.String(), arguments: Type.String() }),
});

export const ChatMessage = Type.Union([
  Type.Object({ role: Type.Literal("system"), content: Type.String() }),
  Type.Object({ role: Type.Literal("user"), content: Type.Union([Type.String(), Type.Array(ContentPart)]) }),
  Type.Object({
    role: Type.Literal("assistant"),
    content: Type.Union([Type.String(), Type.Null()]),
    tool_calls: Type.Optional(Type.Array(ToolCall)),
  }),
  Type.Object({ role: Type.Literal("tool"), tool_call_id: Type.String(), content: Type.String() }),
]);

export const ChatTool = Type.Object({
  type: Type.Literal("function"),
  function: Type.Object({
    name: Type.String(),
    description: Type.Optional(Type.String()),
    parameters: Type.Record(Type.String(), Type.Unknown()),
  }),
});

export const ChatToolChoice = Type.Union([
  Type.Literal("auto"),
  Type.Literal("required"),
  Type.Literal("none"),
  Type.Object({ type: Type.Literal("function"), function: Type.Object({ name: Type.String() }) }),
]);

export const ChatRequest = Type.Object({
  model: Type.String(),
  messages: Type.Array(ChatMessage),
  max_tokens: Type.Integer(),
  stream: Type.Boolean(),
  stream_options: Type.Optional(Type.Object({ include_usage: Type.Boolean() })),
  temperature: Type.Optional(Type.Number()),
  top_p: Type.Optional(Type.Number()),
  // Not in OpenAI's API, but vLLM, llama.cpp, SGLang, LM Studio and Ollama read it.
  top_k: Type.Optional(Type.Integer()),
  stop: Type.Optional(Type.Array(Type.String())),
  user: Type.Optional(Type.String()),
  tools: Type.Optional(Type.Array(ChatTool)),
  tool_choice: Type.Optional(ChatToolChoice),
  parallel_tool_calls: Type.Optional(Type.Boolean()),
});

// ---- response (read from the backend) ----

export const Usage = Type.Object({
  prompt_tokens: Nullable(Type.Number()),
  completion_tokens: Nullable(Type.Number()),
  total_tokens: Nullable(Type.Number()),
  prompt_tokens_details: Nullable(Type.Object({ cached_tokens: Nullable(Type.Number()) })),
});

/** `arguments` is a JSON string in OpenAI's API; a few servers send the object itself. */
const Arguments = Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown()), Type.Null()]);

export const ResponseToolCall = Type.Object({
  id: Nullable(Type.String()),
  type: Nullable(Type.String()),
  function: Type.Object({ name: Nullable(Type.String()), arguments: Type.Optional(Arguments) }),
});

const TextParts = Type.Array(Type.Object({ type: Type.String(), text: Type.Optional(Type.String()) }));

/** Which stop string ended the answer: vLLM's `stop_reason`, SGLang's `matched_stop` (a string when a
 *  stop string matched, a token id or null otherwise). */
const StopMatch = {
  stop_reason: Type.Optional(Type.Unknown()),
  matched_stop: Type.Optional(Type.Unknown()),
};

export const Completion = Type.Object({
  id: Nullable(Type.String()),
  model: Nullable(Type.String()),
  choices: Type.Array(
    Type.Object({
      index: Nullable(Type.Number()),
      message: Type.Object({
        role: Nullable(Type.String()),
        content: Nullable(Type.Union([Type.String(), TextParts])),
        reasoning_content: Nullable(Type.String()),
        reasoning: Nullable(Type.String()),
        tool_calls: Nullable(Type.Array(ResponseToolCall)),
        function_call: Nullable(
          Type.Object({ name: Nullable(Type.String()), arguments: Type.Optional(Arguments) }),
        ),
      }),
      finish_reason: Nullable(Type.String()),
      ...StopMatch,
    }),
  ),
  usage: Nullable(Usage),
});

export const ChunkToolCall = Type.Object({
  index: Nullable(Type.Number()),
  id: Nullable(Type.String()),
  type: Nullable(Type.String()),
  function: Nullable(Type.Object({ name: Nullable(Type.String()), arguments: Type.Optional(Arguments) })),
});

export const Chunk = Type.Object({
  id: Nullable(Type.String()),
  model: Nullable(Type.String()),
  choices: Nullable(
    Type.Array(
      Type.Object({
        index: Nullable(Type.Number()),
        delta: Nullable(
          Type.Object({
            role: Nullable(Type.String()),
            content: Nullable(Type.String()),
            reasoning_content: Nullable(Type.String()),
            reasoning: Nullable(Type.String()),
            tool_calls: Nullable(Type.Array(ChunkToolCall)),
            function_call: Nullable(
              Type.Object({ name: Nullable(Type.String()), arguments: Type.Optional(Arguments) }),
            ),
          }),
        ),
        finish_reason: Nullable(Type.String()),
        ...StopMatch,
      }),
    ),
  ),
  usage: Nullable(Usage),
});

/** Error bodies as backends send them: OpenAI/llama.cpp/Ollama `{error:{message,type,code}}`, Ollama
 *  native `{error:"..."}`, vLLM's older top-level `{object:"error",message}`, FastAPI `{detail}`. */
export const ErrorBody = Type.Object({
  error: Type.Optional(
    Type.Union([
      Type.String(),
      Type.Object({ message: Nullable(Type.String()), type: Nullable(Type.String()) }),
    ]),
  ),
  message: Type.Optional(Type.Unknown()),
  detail: Type.Optional(Type.Unknown()),
});

export type ContentPart = Static<typeof ContentPart>;
export type ToolCall = Static<typeof ToolCall>;
export type ChatMessage = Static<typeof ChatMessage>;
export type ChatTool = Static<typeof ChatTool>;
export type ChatToolChoice = Static<typeof ChatToolChoice>;
export type ChatRequest = Static<typeof ChatRequest>;
export type Usage = Static<typeof Usage>;
export type Completion = Static<typeof Completion>;
export type ChunkToolCall = Static<typeof ChunkToolCall>;
export type Chunk = Static<typeof Chunk>;
export type ErrorBody = Static<typeof ErrorBody>;
