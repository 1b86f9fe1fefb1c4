// A whole OpenAI chat completion → an Anthropic message: reasoning first as thinking blocks, then the
// text, then tool_use blocks, with stop_reason and usage in Anthropic's terms.
import { AnthropicApiError, fromUpstreamError } from "./errors.ts";
import { estimateTokens, finishOf, usageOf } from "./finish.ts";
import { messageId, toolUseId } from "./ids.ts";
import type { ResponseContext } from "./request.ts";
import { Completion } from "./schema-openai.ts";
import type { ContentBlock, Message, ToolUseBlock } from "./schema-response.ts";
import { splitThinkTags } from "./think-tags.ts";
import { checker } from "./validate.ts";

const completion = checker(Completion);

/**
 * Translates a backend's 2xx chat-completion body (parsed JSON). A body that is not a completion
 * (an error object sent with 200, or garbage) throws AnthropicApiError 502. `notes` collects repairs
 * (malformed tool arguments) for a log line.
 */
export function translateResponse(body: unknown, context: ResponseContext, notes: string[] = []): Message {
  if (!completion.check(body)) {
    if (body && typeof body === "object" && "error" in body) throw fromUpstreamError(502, body);
    throw new AnthropicApiError(502, `backend answer is not a chat completion: ${completion.explain(body)}`);
  }
  const choice = body.choices[0];
  if (!choice) throw new AnthropicApiError(502, "backend answer is not a chat completion: no choices");
  const { message } = choice;

  const content: ContentBlock[] = [];
  let chars = 0;
  const reasoning = message.reasoning_content || message.reasoning;
  if (reasoning) {
    content.push({ type: "thinking", thinking: reasoning, signature: "" });
    chars += reasoning.length;
  }
  const split = splitThinkTags(textOf(message.content));
  if (split.thinking) {
    content.push({ type: "thinking", thinking: split.thinking, signature: "" });
    chars += split.thinking.length;
  }
  chars += split.text.length;

  const tools: ToolUseBlock[] = [];
  for (const [i, call] of (message.tool_calls ?? []).entries()) {
    tools.push(toolUse(call.id, call.function.name, call.function.arguments, `tool_calls.${i}`, notes));
  }
  if (message.function_call) {
    const { name, arguments: args } = message.function_call;
    tools.push(toolUse(null, name, args, "function_call", notes));
  }
  for (const tool of tools) chars += JSON.stringify(tool.input).length;

  // Whitespace a model writes before its tool calls is not an answer worth a block.
  if (split.text.trim() || (split.text && tools.length === 0))
    content.push({ type: "text", text: split.text });
  content.push(...tools);
  if (content.length === 0) content.push({ type: "text", text: "" });

  const finish = finishOf(
    choice.finish_reason,
    choice.stop_reason ?? choice.matched_stop,
    context.stopSequences,
    tools.length > 0,
  );
  return {
    id: messageId(),
    type: "message",
    role: "assistant",
    model: context.model,
    content,
    ...finish,
    usage: usageOf(body.usage, { input: context.inputTokens ?? 0, output: estimateTokens(chars) }),
  };
}

function textOf(content: string | { type: string; text?: string }[] | null | undefined): string {
  if (!content) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text ?? "").join("");
}

function toolUse(
  id: string | null | undefined,
  name: string | null | undefined,
  args: unknown,
  at: string,
  notes: string[],
): ToolUseBlock {
  return { type: "tool_use", id: id || toolUseId(), name: name ?? "", input: toolInput(args, at, notes) };
}

/**
 * Tool arguments → the tool_use `input` object. Empty arguments are `{}`; an object (some servers send
 * one) is taken as is; a JSON string encoded twice is decoded twice. Anything else becomes `{}` with a
 * note: the client's schema check then reports the missing parameters to the model, which retries —
 * the same outcome as Olla, and the raw text is kept in the note for the log.
 */
export function toolInput(args: unknown, at = "arguments", notes: string[] = []): Record<string, unknown> {
  if (args === undefined || args === null) return {};
  if (isPlainObject(args)) return args;
  if (typeof args !== "string") {
    notes.push(`${at}: arguments are not an object or JSON string; input set to {}`);
    return {};
  }
  if (args.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(args);
    if (typeof value === "string") value = JSON.parse(value);
  } catch {
    notes.push(`${at}: arguments are not valid JSON; input set to {} (raw: ${args.slice(0, 200)})`);
    return {};
  }
  if (isPlainObject(value)) return value;
  notes.push(`${at}: arguments are JSON but not an object; input set to {} (raw: ${args.slice(0, 200)})`);
  return {};
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
