// Token usage read from the end of an answer, so the stream itself is never parsed: Ollama's final
// object (prompt_eval_count, eval_count, eval_duration), OpenAI's `usage` (the whole response, or the
// last SSE chunk when the client asked for stream_options.include_usage).

export interface TokenUsage {
  input: number;
  output: number;
  /** Generation time the server reported (Ollama eval_duration), in ms. */
  generationMs?: number;
}

/** How much of an answer's end is looked at: usage sits in the last object or event. */
export const USAGE_TAIL_BYTES = 2048;

const FIELDS =
  /"(prompt_eval_count|eval_count|eval_duration|prompt_tokens|completion_tokens|input_tokens|output_tokens)"\s*:\s*(\d+)/g;

/** Usage from the tail of an answer, or undefined when it carries none (never a guessed zero). */
export function usageFromTail(tail: string): TokenUsage | undefined {
  // Most answers carry no counts in their tail: two substring searches settle that before any regex.
  const start = Math.max(tail.lastIndexOf("_count"), tail.lastIndexOf("_tokens"));
  if (start < 0) return undefined;
  // The last object wins: earlier matches may be from a previous event.
  const found: Record<string, number> = {};
  for (const match of tail.slice(Math.max(0, start - 400)).matchAll(FIELDS))
    found[match[1]!] = Number(match[2]);
  if (found.eval_count !== undefined || found.prompt_eval_count !== undefined) {
    return {
      input: found.prompt_eval_count ?? 0,
      output: found.eval_count ?? 0,
      ...(found.eval_duration === undefined ? {} : { generationMs: found.eval_duration / 1e6 }),
    };
  }
  if (found.prompt_tokens !== undefined || found.completion_tokens !== undefined) {
    return { input: found.prompt_tokens ?? 0, output: found.completion_tokens ?? 0 };
  }
  if (found.input_tokens !== undefined || found.output_tokens !== undefined) {
    return { input: found.input_tokens ?? 0, output: found.output_tokens ?? 0 };
  }
  return undefined;
}

const decoder = new TextDecoder();

/** Keeps the last bytes of a stream by reference (no copies per chunk) for usageFromTail at the end. */
export interface TailKeeper {
  push(chunk: Uint8Array): void;
  text(): string;
}

export function createTailKeeper(limit = USAGE_TAIL_BYTES): TailKeeper {
  let previous: Uint8Array | undefined;
  let last: Uint8Array | undefined;
  return {
    push(chunk) {
      if (chunk.byteLength === 0) return;
      // Two chunk references cover an event split across the last two reads.
      if (chunk.byteLength < limit) previous = last;
      else previous = undefined;
      last = chunk;
    },
    text() {
      const parts = [previous, last].filter((part): part is Uint8Array => part !== undefined);
      const size = parts.reduce((sum, part) => sum + part.byteLength, 0);
      const joined = new Uint8Array(Math.min(size, limit));
      let offset = joined.byteLength;
      for (let index = parts.length - 1; index >= 0 && offset > 0; index--) {
        const part = parts[index]!;
        const take = Math.min(offset, part.byteLength);
        joined.set(part.subarray(part.byteLength - take), offset - take);
        offset -= take;
      }
      return decoder.decode(joined);
    },
  };
}
