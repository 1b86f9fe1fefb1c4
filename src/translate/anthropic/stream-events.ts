// The streaming translation proper: OpenAI chat-completion chunks in, Anthropic stream events out, one
// call per chunk with no look-ahead. Blocks are opened and closed one at a time (as Anthropic does):
// a change of kind (thinking → text → tool_use) or a new tool call closes the block before it.
import { estimateTokens, finishOf, usageOf } from "./finish.ts";
import { messageId, toolUseId } from "./ids.ts";
import type { ResponseContext } from "./request.ts";
import type { Chunk, ChunkToolCall, Usage as OpenAIUsage } from "./schema-openai.ts";
import type { BlockDelta, ContentBlock, ErrorType, StreamEvent } from "./schema-response.ts";
import { createThinkSplitter } from "./think-tags.ts";

export interface StreamSteps {
  /** message_start; emitted once (the other steps emit it first if it has not been). */
  start(): StreamEvent[];
  /** One parsed chunk → the events it completes. */
  chunk(chunk: Chunk): StreamEvent[];
  /** The answer is complete (`[DONE]`, or the upstream closed after a finish_reason): close the open
   *  block, then message_delta (stop_reason, usage) and message_stop. */
  finish(): StreamEvent[];
  /** The upstream failed: one `error` event; nothing follows it. */
  fail(message: string, type?: ErrorType): StreamEvent[];
  /** "open" until finish() or fail() ran. */
  readonly phase: "open" | "finished" | "failed";
  /** A choice carried a finish_reason: the answer is complete even if [DONE] never comes. */
  readonly finishSeen: boolean;
}

interface ToolEntry {
  id?: string;
  name: string;
  /** Argument fragments that came before the name (the block cannot start without one). */
  pending: string;
  /** Block index once started. */
  index?: number;
}

interface OpenBlock {
  kind: "text" | "thinking" | "tool";
  index: number;
}

export function createStreamSteps(context: ResponseContext, id: string = messageId()): StreamSteps {
  let phase: StreamSteps["phase"] = "open";
  let started = false;
  let nextIndex = 0;
  let open: OpenBlock | undefined;
  let calledTools = false;
  let chars = 0;
  let finishReason: string | undefined;
  let matched: unknown;
  let usage: OpenAIUsage | undefined;
  const tools = new Map<number, ToolEntry>();
  let lastToolKey: number | undefined;
  const think = createThinkSplitter();

  function start(): StreamEvent[] {
    if (started) return [];
    started = true;
    return [
      {
        type: "message_start",
        message: {
          id,
          type: "message",
          role: "assistant",
          model: context.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: context.inputTokens ?? 0,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
          },
        },
      },
    ];
  }

  function close(out: StreamEvent[]): void {
    if (!open) return;
    out.push({ type: "content_block_stop", index: open.index });
    open = undefined;
  }

  function openBlock(kind: OpenBlock["kind"], block: ContentBlock, out: StreamEvent[]): number {
    close(out);
    const index = nextIndex++;
    open = { kind, index };
    out.push({ type: "content_block_start", index, content_block: block });
    return index;
  }

  function delta(index: number, value: BlockDelta, out: StreamEvent[]): void {
    out.push({ type: "content_block_delta", index, delta: value });
  }

  function emit(kind: "text" | "thinking", text: string, out: StreamEvent[]): void {
    if (!text) return;
    chars += text.length;
    if (open?.kind !== kind) {
      openBlock(
        kind,
        kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" },
        out,
      );
    }
    const index = (open as OpenBlock).index;
    delta(
      index,
      kind === "text" ? { type: "text_delta", text } : { type: "thinking_delta", thinking: text },
      out,
    );
  }

  function content(fragment: string, out: StreamEvent[]): void {
    for (const segment of think.push(fragment)) emit(segment.kind, segment.text, out);
  }

  function startTool(entry: ToolEntry, out: StreamEvent[]): void {
    calledTools = true;
    entry.index = openBlock(
      "tool",
      { type: "tool_use", id: entry.id || toolUseId(), name: entry.name, input: {} },
      out,
    );
    if (entry.pending) {
      delta(entry.index, { type: "input_json_delta", partial_json: entry.pending }, out);
      entry.pending = "";
    }
  }

  /** Which call a fragment belongs to: its `index`. Servers that omit it (they send whole calls) get one
   *  by id, or a new one when a name comes (a name starts a call), else the fragment continues the last. */
  function toolKey(call: ChunkToolCall): number {
    if (typeof call.index === "number") return call.index;
    if (call.id) {
      for (const [key, entry] of tools) if (entry.id === call.id) return key;
      return tools.size;
    }
    const last = lastToolKey === undefined ? undefined : tools.get(lastToolKey);
    if (call.function?.name && last?.name) return tools.size;
    return lastToolKey ?? 0;
  }

  function toolCall(call: ChunkToolCall, out: StreamEvent[]): void {
    const key = toolKey(call);
    lastToolKey = key;
    let entry = tools.get(key);
    if (!entry) {
      entry = { name: "", pending: "" };
      tools.set(key, entry);
    }
    if (call.id && !entry.id) entry.id = call.id;
    const name = call.function?.name;
    if (name && entry.index === undefined) entry.name = name;
    const raw = call.function?.arguments;
    const args = typeof raw === "string" ? raw : raw ? JSON.stringify(raw) : "";
    chars += args.length;

    if (entry.index === undefined) {
      entry.pending += args;
      if (entry.name) startTool(entry, out);
      return;
    }
    // A fragment for a call whose block was already closed (a server interleaving parallel calls) still
    // goes to that block's index: index-keyed clients (the SDK) assemble the right input, where
    // dropping it or aborting the answer would lose the call.
    if (args) delta(entry.index, { type: "input_json_delta", partial_json: args }, out);
  }

  function chunk(value: Chunk): StreamEvent[] {
    if (phase !== "open") return [];
    const out = start();
    if (value.usage) usage = value.usage;
    // Anthropic has no `n`: only the first choice is translated.
    const choice = value.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return out;
    const d = choice.delta;
    if (d) {
      const reasoning = d.reasoning_content || d.reasoning;
      if (reasoning) emit("thinking", reasoning, out);
      if (d.content) content(d.content, out);
      if (d.tool_calls) for (const call of d.tool_calls) toolCall(call, out);
      if (d.function_call) toolCall({ index: 0, function: d.function_call }, out);
    }
    if (choice.finish_reason) {
      finishReason = choice.finish_reason;
      matched = choice.stop_reason ?? choice.matched_stop;
    }
    return out;
  }

  function finish(): StreamEvent[] {
    if (phase !== "open") return [];
    phase = "finished";
    const out = start();
    for (const segment of think.end()) emit(segment.kind, segment.text, out);
    // Calls that never got a name cannot be a tool_use block; they are dropped.
    close(out);
    if (nextIndex === 0) {
      // Never an empty content list, as in the non-streaming answer.
      out.push({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
      out.push({ type: "content_block_stop", index: 0 });
    }
    const totals = usageOf(usage, { input: context.inputTokens ?? 0, output: estimateTokens(chars) });
    out.push({
      type: "message_delta",
      delta: finishOf(finishReason, matched, context.stopSequences, calledTools),
      usage: {
        output_tokens: totals.output_tokens,
        input_tokens: totals.input_tokens,
        cache_creation_input_tokens: totals.cache_creation_input_tokens,
        cache_read_input_tokens: totals.cache_read_input_tokens,
      },
    });
    out.push({ type: "message_stop" });
    return out;
  }

  function fail(message: string, type: ErrorType = "api_error"): StreamEvent[] {
    if (phase !== "open") return [];
    phase = "failed";
    const out = start();
    out.push({ type: "error", error: { type, message } });
    return out;
  }

  return {
    start,
    chunk,
    finish,
    fail,
    get phase() {
      return phase;
    },
    get finishSeen() {
      return finishReason !== undefined;
    },
  };
}
