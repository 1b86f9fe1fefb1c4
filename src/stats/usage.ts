// Token usage read from the events that carry it, found by a byte search, so the stream itself is never
// parsed: Ollama's final object (prompt_eval_count, eval_count, eval_duration), OpenAI's `usage` (the
// whole response, or the SSE chunk that carries it when the client asked for stream_options.include_usage).

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
const LF = 0x0a;
const COUNT = Buffer.from("_count");
const TOKENS = Buffer.from("_tokens");

/** usageFromTail's first test, on bytes: most reads carry no counts, and need no string. */
function mayHoldCounts(bytes: Uint8Array): boolean {
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.indexOf(COUNT) >= 0 || view.indexOf(TOKENS) >= 0;
}

/**
 * Reads an answer's token usage as its bytes go by; the last counts seen win.
 *
 * It keeps no read from one to the next when it can: in a slow stream a read held until the next one
 * (a quarter of a second later) outlives the GC's young generation, and 5,000 streams then filled the
 * old one with dead reads (about 30 MB more peak RSS, measured). A read that ends where an event ends
 * (a newline, as SSE and NDJSON events do) is looked at and let go. Only one that ends inside an event
 * (an event split across reads, a JSON body) is held, joined to the next, up to `limit` bytes.
 */
export class UsageWatcher {
  private pending: Uint8Array | undefined = undefined;
  // The counts as numbers (input -1: none seen yet), not usageFromTail's object: held from one read to
  // the next, that object would age into the old generation as the reads did (vLLM's
  // continuous_usage_stats puts counts in every event).
  private input = -1;
  private output = 0;
  private generationMs = Number.NaN;

  constructor(private readonly limit = USAGE_TAIL_BYTES) {}

  /** One read of the answer (kept by reference only while it ends inside an event, never changed). */
  push(chunk: Uint8Array): void {
    const size = chunk.byteLength;
    if (size === 0) return;
    const bytes = this.pending === undefined ? chunk : this.joined(this.pending, chunk);
    if (chunk[size - 1] === LF) {
      this.pending = undefined;
      if (mayHoldCounts(bytes)) this.read(bytes);
    } else {
      this.pending = bytes;
    }
  }

  /** The last usage the answer carried, its held end included (a body that ends without a newline). */
  result(): TokenUsage | undefined {
    const pending = this.pending;
    if (pending !== undefined) {
      this.pending = undefined;
      if (mayHoldCounts(pending)) this.read(pending);
    }
    if (this.input < 0) return undefined;
    const usage: TokenUsage = { input: this.input, output: this.output };
    if (!Number.isNaN(this.generationMs)) usage.generationMs = this.generationMs;
    return usage;
  }

  private read(bytes: Uint8Array): void {
    const size = bytes.byteLength;
    const usage = usageFromTail(
      decoder.decode(size > this.limit ? bytes.subarray(size - this.limit) : bytes),
    );
    if (usage === undefined) return;
    this.input = usage.input;
    this.output = usage.output;
    this.generationMs = usage.generationMs ?? Number.NaN;
  }

  /** `pending` followed by `chunk`, cut to the last `limit` bytes (a large chunk is taken as it is). */
  private joined(pending: Uint8Array, chunk: Uint8Array): Uint8Array {
    if (chunk.byteLength >= this.limit) return chunk;
    const fromPending = Math.min(pending.byteLength, this.limit - chunk.byteLength);
    const joined = new Uint8Array(fromPending + chunk.byteLength);
    joined.set(pending.subarray(pending.byteLength - fromPending), 0);
    joined.set(chunk, fromPending);
    return joined;
  }
}
