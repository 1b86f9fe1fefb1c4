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

/** Usage from the tail of an answer, or undefined when it carries none (never a guessed zero). */
export function usageFromTail(tail: string): TokenUsage | undefined {
  // Most answers carry no counts in their tail: two substring searches settle that.
  const counts = tail.lastIndexOf("_count");
  const tokens = tail.lastIndexOf("_tokens");
  if (counts < 0 && tokens < 0) return undefined;
  // The last object wins: only the end of the tail is read, and each key's last value in it.
  const from = Math.max(0, Math.max(counts, tokens) - 400);
  const evalCount = counts < 0 ? undefined : lastCount(tail, '"eval_count"', from);
  const promptEvalCount = counts < 0 ? undefined : lastCount(tail, '"prompt_eval_count"', from);
  if (evalCount !== undefined || promptEvalCount !== undefined) {
    const evalDuration = lastCount(tail, '"eval_duration"', from);
    return {
      input: promptEvalCount ?? 0,
      output: evalCount ?? 0,
      ...(evalDuration === undefined ? {} : { generationMs: evalDuration / 1e6 }),
    };
  }
  if (tokens < 0) return undefined;
  const promptTokens = lastCount(tail, '"prompt_tokens"', from);
  const completionTokens = lastCount(tail, '"completion_tokens"', from);
  if (promptTokens !== undefined || completionTokens !== undefined) {
    return { input: promptTokens ?? 0, output: completionTokens ?? 0 };
  }
  const inputTokens = lastCount(tail, '"input_tokens"', from);
  const outputTokens = lastCount(tail, '"output_tokens"', from);
  if (inputTokens !== undefined || outputTokens !== undefined) {
    return { input: inputTokens ?? 0, output: outputTokens ?? 0 };
  }
  return undefined;
}

const isJsonSpace = (code: number) => code === 32 || code === 10 || code === 13 || code === 9;

/** The last `"key": <digits>` at or after `from` (a searched string, no regex or match objects per answer). */
function lastCount(tail: string, key: string, from: number): number | undefined {
  for (let at = tail.lastIndexOf(key); at >= from; at = at > 0 ? tail.lastIndexOf(key, at - 1) : -1) {
    let i = at + key.length;
    while (isJsonSpace(tail.charCodeAt(i))) i++;
    if (tail.charCodeAt(i) !== 58 /* : */) continue;
    i++;
    while (isJsonSpace(tail.charCodeAt(i))) i++;
    let value = 0;
    let digits = 0;
    for (let code = tail.charCodeAt(i); code >= 48 && code <= 57; code = tail.charCodeAt(++i)) {
      value = value * 10 + (code - 48);
      digits++;
    }
    if (digits > 0) return value;
  }
  return undefined;
}

const decoder = new TextDecoder();

/** Keeps the last bytes of a stream by reference (no copies per chunk) for usageFromTail at the end. */
export class TailKeeper {
  // Two chunk references cover an event split across the last two reads.
  private previous: Uint8Array | undefined = undefined;
  private last: Uint8Array | undefined = undefined;

  constructor(private readonly limit = USAGE_TAIL_BYTES) {}

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.previous = chunk.byteLength < this.limit ? this.last : undefined;
    this.last = chunk;
  }

  text(): string {
    const { previous, last, limit } = this;
    if (last === undefined) return "";
    if (previous === undefined || last.byteLength >= limit) {
      // One chunk (a whole answer, most often): decoded where it lies.
      return decoder.decode(last.byteLength > limit ? last.subarray(last.byteLength - limit) : last);
    }
    const fromPrevious = Math.min(previous.byteLength, limit - last.byteLength);
    const joined = new Uint8Array(fromPrevious + last.byteLength);
    joined.set(previous.subarray(previous.byteLength - fromPrevious), 0);
    joined.set(last, fromPrevious);
    return decoder.decode(joined);
  }
}
