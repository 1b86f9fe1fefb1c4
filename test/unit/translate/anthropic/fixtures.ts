// Backend chunks and streams as vLLM / llama.cpp / Ollama send them, and a reader for the Anthropic SSE
// the translator writes.
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const bytes = (text: string): Uint8Array => encoder.encode(text);
export const text = (data: Uint8Array): string => decoder.decode(data);

let created = 1_700_000_000;

/** One chat.completion.chunk with a single choice. */
export function chunk(
  delta: Record<string, unknown>,
  finish: string | null = null,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: created++,
    model: "qwen3:8b",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...extra }],
  };
}

export function usageChunk(prompt: number, completion: number, cached?: number): Record<string, unknown> {
  return {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: created++,
    model: "qwen3:8b",
    choices: [],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      ...(cached === undefined ? {} : { prompt_tokens_details: { cached_tokens: cached } }),
    },
  };
}

/** OpenAI SSE text for these chunks (objects are JSON-encoded, strings sent as is), ending in [DONE]. */
export function sse(chunks: (Record<string, unknown> | string)[], done = true): string {
  const frames = chunks.map((c) => `data: ${typeof c === "string" ? c : JSON.stringify(c)}\n\n`);
  if (done) frames.push("data: [DONE]\n\n");
  return frames.join("");
}

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Anthropic SSE output → events; checks the framing (event line names the data's type). */
export function events(output: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const frame of output.split("\n\n")) {
    if (!frame) continue;
    const match = /^event: ([a-z_]+)\ndata: (.*)$/s.exec(frame);
    if (!match) throw new Error(`bad frame: ${JSON.stringify(frame)}`);
    const data = JSON.parse(match[2]!) as Record<string, unknown>;
    if (data.type !== match[1]) throw new Error(`event ${match[1]} carries type ${String(data.type)}`);
    out.push({ event: match[1]!, data });
  }
  return out;
}

/** A compact trace of the event sequence: `start`, `block+0:text`, `delta0:text_delta`, `stop0` ... */
export function trace(list: { type: string; [k: string]: unknown }[]): string[] {
  return list.map((e) => {
    switch (e.type) {
      case "content_block_start":
        return `block+${e.index}:${(e.content_block as { type: string }).type}`;
      case "content_block_delta":
        return `delta${e.index}:${(e.delta as { type: string }).type}`;
      case "content_block_stop":
        return `stop${e.index}`;
      default:
        return e.type;
    }
  });
}

/** A ReadableStream of these byte pieces, then close (or error with `fail`). */
export function streamOf(pieces: Uint8Array[], fail?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < pieces.length) controller.enqueue(pieces[i++]!);
      else if (fail) controller.error(fail);
      else controller.close();
    },
  });
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  let out = "";
  for await (const piece of stream) out += decoder.decode(piece, { stream: true });
  return out + decoder.decode();
}

export const context = { model: "claude-sonnet-5-5", stopSequences: [] as string[] };
