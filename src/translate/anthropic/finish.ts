// How an answer ended and what it cost, in Anthropic's terms; shared by the whole-response and the
// stream translators so both say the same thing about the same backend answer.
import type { Usage as OpenAIUsage } from "./schema-openai.ts";
import type { StopReason, Usage } from "./schema-response.ts";

export interface Finish {
  stop_reason: StopReason;
  stop_sequence: string | null;
}

/**
 * finish_reason → stop_reason. "stop" is stop_sequence only when the backend names the stop string it
 * matched (vLLM `stop_reason`, SGLang `matched_stop`) and it is one of the client's; llama.cpp and
 * Ollama do not say, so their stop-sequence stops read as end_turn. An answer that called tools is
 * tool_use whatever the backend says (some send "stop" with tool_calls): the client must run them.
 */
export function finishOf(
  finishReason: string | null | undefined,
  matched: unknown,
  stopSequences: readonly string[],
  calledTools: boolean,
): Finish {
  switch (finishReason) {
    case "length":
      return { stop_reason: "max_tokens", stop_sequence: null };
    case "tool_calls":
    case "function_call":
      return { stop_reason: "tool_use", stop_sequence: null };
    case "content_filter":
      return { stop_reason: "refusal", stop_sequence: null };
  }
  if (calledTools) return { stop_reason: "tool_use", stop_sequence: null };
  if (finishReason === "stop" && typeof matched === "string" && stopSequences.includes(matched)) {
    return { stop_reason: "stop_sequence", stop_sequence: matched };
  }
  return { stop_reason: "end_turn", stop_sequence: null };
}

const count = (value: number | null | undefined): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;

/**
 * OpenAI usage → Anthropic usage. Anthropic counts cache reads apart from input_tokens (the prompt is
 * input + cache_creation + cache_read), so a backend's cached_tokens move to cache_read_input_tokens.
 * Missing counts fall back to the given estimates.
 */
export function usageOf(
  usage: OpenAIUsage | null | undefined,
  estimate: { input: number; output: number },
): Usage {
  const prompt = count(usage?.prompt_tokens) ?? estimate.input;
  const cached = Math.min(count(usage?.prompt_tokens_details?.cached_tokens) ?? 0, prompt);
  return {
    input_tokens: prompt - cached,
    output_tokens: count(usage?.completion_tokens) ?? estimate.output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

/** Output-token estimate when the backend reports none: characters / 4, rounded up. */
export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);
