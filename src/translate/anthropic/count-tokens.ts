// count_tokens: the local estimate, and the bits for asking a backend whose native Anthropic API counts
// tokens (profiles with anthropic_support.token_count: llama.cpp, vllm-mlx, docker-model-runner).
import type { CountTokensRequest, ContentBlockParam, MessagesRequest } from "./schema-request.ts";
import { CountTokensResponse } from "./schema-response.ts";
import { systemText } from "./request.ts";
import { checker } from "./validate.ts";

/** Response header saying where a count came from: "estimate" or "backend". */
export const TOKEN_COUNT_HEADER = "x-olla-token-count";

/** Tokens charged per image or PDF document: its size in tokens cannot be known without decoding it.
 *  1,600 is Anthropic's figure for a full-size image, so the estimate errs high, which is the safe
 *  side for a client budgeting its context window. */
export const ATTACHMENT_TOKENS = 1600;

/**
 * Estimate, not a count: ceil(characters / 4) over the system prompt, every message's text (tool_use
 * name and JSON input, tool_result text, thinking text included) and every tool's name, description
 * and JSON input_schema, plus ATTACHMENT_TOKENS per image or PDF. At least 1.
 * Real tokenizers give roughly 3–5 characters per token for English and code, fewer for other scripts,
 * and chat templates add a few tokens per message, so expect ±25%.
 */
export function estimateInputTokens(req: CountTokensRequest | MessagesRequest): number {
  let chars = systemText(req.system).length;
  let attachments = 0;
  const blocks = (content: string | ContentBlockParam[]): void => {
    if (typeof content === "string") {
      chars += content.length;
      return;
    }
    for (const block of content) {
      switch (block.type) {
        case "text":
          chars += block.text.length;
          break;
        case "image":
          attachments++;
          break;
        case "document":
          if (block.source.type === "text") chars += block.source.data.length;
          else if (block.source.type === "content") {
            const c = block.source.content;
            chars += typeof c === "string" ? c.length : c.reduce((n, b) => n + b.text.length, 0);
          } else attachments++;
          break;
        case "tool_use":
          chars += block.name.length + JSON.stringify(block.input ?? {}).length;
          break;
        case "tool_result":
          if (block.content !== undefined) blocks(block.content);
          break;
        case "thinking":
          chars += block.thinking.length;
          break;
        case "redacted_thinking":
          break;
      }
    }
  };
  for (const message of req.messages) blocks(message.content);
  for (const tool of req.tools ?? []) {
    chars += tool.name.length + (tool.description?.length ?? 0) + JSON.stringify(tool.input_schema).length;
  }
  return Math.max(1, Math.ceil(chars / 4) + attachments * ATTACHMENT_TOKENS);
}

/** The count_tokens answer. */
export const countTokensBody = (inputTokens: number): CountTokensResponse => ({ input_tokens: inputTokens });

/** Where a backend's native API counts tokens, from its profile's messages_path (`/v1/messages`). */
export const countTokensPath = (messagesPath: string): string =>
  `${messagesPath.replace(/\/+$/, "")}/count_tokens`;

const countTokensResponse = checker(CountTokensResponse);

/** A backend's count_tokens answer → the count, or undefined if it is not one (then estimate). */
export function readCountTokens(body: unknown): number | undefined {
  return countTokensResponse.check(body) ? body.input_tokens : undefined;
}
