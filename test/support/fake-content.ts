// Deterministic "model output" for the fakes: reply tokens, rough token counts, embedding vectors and ids,
// so tests can predict exactly what a fake answered.

const WORDS = ["Hello", " from", " the", " fake", " upstream", "."];

/** The `count` content pieces every fake answers with, in order; their concatenation is the reply text. */
export function replyTokens(count: number): string[] {
  return Array.from({ length: count }, (_, i) => WORDS[i % WORDS.length]!);
}

/** About four characters per token, at least one. */
export function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The text of a prompt, chat messages (string or content-part arrays) or embedding input. */
export function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(textOf).join("\n");
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    return textOf(o.content ?? o.text ?? "");
  }
  return value === undefined || value === null ? "" : String(value);
}

/** A unit vector derived from the input text, rounded to float32 so JSON and base64 forms agree. */
export function embeddingOf(input: string, dims: number): number[] {
  let seed = 2166136261;
  for (let i = 0; i < input.length; i++) seed = Math.imul(seed ^ input.charCodeAt(i), 16777619) >>> 0;
  const raw = Array.from({ length: dims }, () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 0x7fffffff - 1;
  });
  const norm = Math.hypot(...raw) || 1;
  return raw.map((x) => Math.fround(x / norm));
}

/** The OpenAI `encoding_format: "base64"` form: little-endian float32 bytes. */
export function float32Base64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

/** Embedding inputs as a list of texts (a string, strings, token ids or lists of token ids). */
export function embeddingInputs(input: unknown): string[] {
  if (Array.isArray(input)) {
    if (input.every((x) => typeof x === "number")) return [input.join(",")];
    return input.map((x) => (Array.isArray(x) ? x.join(",") : textOf(x)));
  }
  return [textOf(input)];
}

export function randomId(prefix: string, length = 24): string {
  return prefix + crypto.randomUUID().replaceAll("-", "").slice(0, length);
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** The tool a chat request with `tools` gets called (the forced one, else the first), or null; a request
 * whose last message is a tool result gets text, so agent loops end. */
export function toolToCall(body: Record<string, unknown>): string | null {
  const tools = Array.isArray(body.tools)
    ? (body.tools as { function?: { name?: unknown }; name?: unknown }[])
    : [];
  const last = Array.isArray(body.messages)
    ? (body.messages.at(-1) as { role?: unknown } | undefined)
    : undefined;
  if (tools.length === 0 || body.tool_choice === "none" || last?.role === "tool") return null;
  const forced = (body.tool_choice as { function?: { name?: unknown } } | undefined)?.function?.name;
  const name = forced ?? tools[0]?.function?.name ?? tools[0]?.name;
  return typeof name === "string" ? name : null;
}
