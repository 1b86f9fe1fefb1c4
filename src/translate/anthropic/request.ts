// Anthropic Messages request → OpenAI chat-completions request, plus what the answer's translation needs
// to know about the request (the model name the client used, its stop sequences).
import { AnthropicApiError } from "./errors.ts";
import type { ChatMessage, ChatRequest, ChatTool, ChatToolChoice, ContentPart } from "./schema-openai.ts";
import {
  CountTokensRequest,
  type DocumentBlockParam,
  type ImageBlockParam,
  MessagesRequest,
  type MessageParam,
  type SystemParam,
  type ToolChoice,
  type ToolParam,
  type ToolResultBlockParam,
} from "./schema-request.ts";
import { checker } from "./validate.ts";

/** What the response and stream translators need from the request. */
export interface ResponseContext {
  /** The model name the client asked for; answers carry it back, whatever the backend calls it. */
  model: string;
  /** The client's stop_sequences, to tell stop_sequence from end_turn. */
  stopSequences: readonly string[];
  /** Input tokens for message_start before the backend reports usage (e.g. the local estimate). */
  inputTokens?: number;
}

export interface TranslateRequestOptions {
  /** The backend's name for the model (after model_aliases); defaults to the client's `model`. */
  model?: string;
}

export interface TranslatedRequest {
  /** The validated Anthropic request. */
  anthropic: MessagesRequest;
  /** The body to POST to the backend's /v1/chat/completions. */
  openai: ChatRequest;
  context: ResponseContext;
  /** What the translation could not carry over (dropped blocks, ignored settings), for a debug log. */
  notes: string[];
}

const messagesRequest = checker(MessagesRequest);
const countTokensRequest = checker(CountTokensRequest);

/** How deeply a request's arrays and objects may nest: far beyond any real body (tool schemas
 *  included), well short of where the recursive code that handles it gives up: JSON.stringify near
 *  50,000 levels here (a 500), Python backends (vLLM, SGLang) near 1,000. JSON.parse has no such limit. */
export const MAX_JSON_DEPTH = 512;

/** Request bytes → JSON; 400 invalid_request_error when they are not JSON or nest too deeply. */
export function parseJson(body: Uint8Array | string): unknown {
  const text = typeof body === "string" ? body : new TextDecoder().decode(body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AnthropicApiError(400, `body: invalid JSON (${(error as Error).message})`);
  }
  if (nestsDeeper(value, MAX_JSON_DEPTH)) {
    throw new AnthropicApiError(400, `body: JSON nested more than ${MAX_JSON_DEPTH} levels deep`);
  }
  return value;
}

/** Whether arrays and objects nest more than `limit` levels. A loop, not recursion: recursion is what
 *  the limit protects. */
function nestsDeeper(value: unknown, limit: number): boolean {
  const pending: object[] = [];
  const depths: number[] = [];
  if (value !== null && typeof value === "object") {
    pending.push(value);
    depths.push(1);
  }
  for (;;) {
    const node = pending.pop();
    if (node === undefined) return false;
    const depth = depths.pop()!;
    if (depth > limit) return true;
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (child !== null && typeof child === "object") {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
}

/** Validates a Messages request; 400 naming the first bad field. Also fit for passthrough validation. */
export function parseMessagesRequest(body: unknown): MessagesRequest {
  if (messagesRequest.check(body)) return body;
  throw new AnthropicApiError(400, messagesRequest.explain(body) ?? "body: invalid request");
}

/** Validates a count_tokens request (a Messages request without max_tokens). */
export function parseCountTokensRequest(body: unknown): CountTokensRequest {
  if (countTokensRequest.check(body)) return body;
  throw new AnthropicApiError(400, countTokensRequest.explain(body) ?? "body: invalid request");
}

/** Validates and translates; throws AnthropicApiError(400) on invalid or untranslatable input. */
export function translateRequest(body: unknown, options: TranslateRequestOptions = {}): TranslatedRequest {
  const anthropic = parseMessagesRequest(body);
  const notes: string[] = [];
  const openai = toChatRequest(anthropic, options, notes);
  return {
    anthropic,
    openai,
    context: { model: anthropic.model, stopSequences: anthropic.stop_sequences ?? [] },
    notes,
  };
}

function toChatRequest(
  req: MessagesRequest,
  options: TranslateRequestOptions = {},
  notes: string[] = [],
): ChatRequest {
  const messages: ChatMessage[] = [];
  const system = systemText(req.system);
  if (system) messages.push({ role: "system", content: system });
  req.messages.forEach((message, i) => convertMessage(message, `messages.${i}`, messages, notes));

  const out: ChatRequest = {
    model: options.model ?? req.model,
    messages,
    max_tokens: req.max_tokens,
    stream: req.stream === true,
  };
  // Without include_usage most backends send no token counts in a stream.
  if (out.stream) out.stream_options = { include_usage: true };
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.top_k !== undefined) out.top_k = req.top_k;
  if (req.stop_sequences && req.stop_sequences.length > 0) out.stop = req.stop_sequences;
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  if (req.tools && req.tools.length > 0) {
    out.tools = req.tools.map(toolDefinition);
    // OpenAI rejects tool_choice without tools, so it only goes along with them.
    if (req.tool_choice) {
      out.tool_choice = toolChoice(req.tool_choice);
      if ("disable_parallel_tool_use" in req.tool_choice && req.tool_choice.disable_parallel_tool_use) {
        out.parallel_tool_calls = false;
      }
    }
  } else if (req.tool_choice) {
    notes.push("tool_choice: ignored without tools");
  }
  if (req.thinking) {
    notes.push(
      `thinking: ${req.thinking.type} is not forwarded (no portable OpenAI field); reasoning output still becomes thinking blocks`,
    );
  }
  return out;
}

export function systemText(system: SystemParam | undefined): string {
  if (system === undefined) return "";
  if (typeof system === "string") return system;
  return system.map((block) => block.text).join("\n");
}

function convertMessage(message: MessageParam, path: string, out: ChatMessage[], notes: string[]): void {
  if (typeof message.content === "string") {
    out.push(
      message.role === "user"
        ? { role: "user", content: message.content }
        : { role: "assistant", content: message.content },
    );
    return;
  }
  if (message.role === "assistant") {
    convertAssistant(message.content, path, out, notes);
    return;
  }

  // User turn: tool results become `tool` messages, which OpenAI wants right after the assistant's
  // tool_calls, so they go first; everything else is one user message after them.
  const parts: ContentPart[] = [];
  message.content.forEach((block, j) => {
    const at = `${path}.content.${j}`;
    switch (block.type) {
      case "text":
        parts.push({ type: "text", text: block.text });
        break;
      case "image":
        parts.push(imagePart(block));
        break;
      case "document":
        parts.push(documentPart(block, at));
        break;
      case "tool_result":
        out.push({
          role: "tool",
          tool_call_id: block.tool_use_id,
          content: toolResultText(block, parts, at, notes),
        });
        break;
      case "thinking":
      case "redacted_thinking":
        notes.push(`${at}: ${block.type} block in a user message dropped`);
        break;
      case "tool_use":
        throw new AnthropicApiError(400, `${at}: tool_use blocks belong in assistant messages`);
    }
  });
  if (parts.length === 0) return;
  out.push({
    role: "user",
    // Text-only turns as one string: every backend's chat template takes that; multi-part text is
    // joined differently per server.
    content: parts.every((p) => p.type === "text")
      ? parts.map((p) => (p as { text: string }).text).join("\n")
      : parts,
  });
}

function convertAssistant(
  blocks: Exclude<MessageParam["content"], string>,
  path: string,
  out: ChatMessage[],
  notes: string[],
): void {
  let text = "";
  const calls: { id: string; type: "function"; function: { name: string; arguments: string } }[] = [];
  blocks.forEach((block, j) => {
    const at = `${path}.content.${j}`;
    switch (block.type) {
      case "text":
        text += block.text;
        break;
      case "tool_use":
        calls.push({
          id: block.id,
          type: "function",
          function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
        });
        break;
      case "thinking":
      case "redacted_thinking":
        // Chat templates of reasoning models drop past reasoning anyway; OpenAI has no field for it.
        notes.push(`${at}: ${block.type} block dropped`);
        break;
      default:
        throw new AnthropicApiError(400, `${at}: ${block.type} blocks belong in user messages`);
    }
  });
  if (calls.length > 0) out.push({ role: "assistant", content: text || null, tool_calls: calls });
  else out.push({ role: "assistant", content: text });
}

function imagePart(block: ImageBlockParam): ContentPart {
  const { source } = block;
  const url = source.type === "base64" ? `data:${source.media_type};base64,${source.data}` : source.url;
  return { type: "image_url", image_url: { url } };
}

function documentPart(block: DocumentBlockParam, at: string): ContentPart {
  const { source } = block;
  const title = block.title ? `${block.title}\n\n` : "";
  switch (source.type) {
    case "text":
      return { type: "text", text: title + source.data };
    case "content":
      return {
        type: "text",
        text:
          title +
          (typeof source.content === "string"
            ? source.content
            : source.content.map((b) => b.text).join("\n")),
      };
    case "base64":
      // OpenAI's file part; backends without PDF support answer with their own error.
      return {
        type: "file",
        file: {
          filename: block.title || "document.pdf",
          file_data: `data:application/pdf;base64,${source.data}`,
        },
      };
    case "url":
      throw new AnthropicApiError(
        400,
        `${at}.source: URL documents cannot be translated; send the PDF as base64`,
      );
  }
}

/** A tool result as the text of a `tool` message; its images go to the user message that follows,
 *  since OpenAI tool messages carry text only. */
function toolResultText(
  block: ToolResultBlockParam,
  parts: ContentPart[],
  at: string,
  notes: string[],
): string {
  let text = "";
  if (typeof block.content === "string") text = block.content;
  else if (block.content) {
    const texts: string[] = [];
    for (const item of block.content) {
      if (item.type === "text") texts.push(item.text);
      else {
        parts.push(imagePart(item));
        notes.push(`${at}: tool_result image moved to the following user message`);
      }
    }
    text = texts.join("\n");
  }
  return block.is_error ? `Error: ${text}` : text;
}

function toolDefinition(tool: ToolParam): ChatTool {
  const fn: ChatTool["function"] = {
    name: tool.name,
    parameters: tool.input_schema as Record<string, unknown>,
  };
  if (tool.description !== undefined) fn.description = tool.description;
  return { type: "function", function: fn };
}

function toolChoice(choice: ToolChoice): ChatToolChoice {
  switch (choice.type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      return { type: "function", function: { name: choice.name } };
  }
}
