// Reasoning models served without a reasoning parser put their thinking in the content, as
// `<think>…</think>` before the answer. These split it off: whole for a complete answer, and
// incrementally for a stream, holding back at most the few characters that could be a tag.
const OPEN = "<think>";
const CLOSE = "</think>";
/** Whitespace before `<think>` longer than this is not a preamble; give up waiting and call it text. */
const MAX_LEAD = 256;

export interface ThinkSplit {
  thinking?: string;
  text: string;
}

/** A complete content string: a leading `<think>` block (an unclosed one is all thinking) and the rest. */
export function splitThinkTags(content: string): ThinkSplit {
  const body = content.trimStart();
  if (!body.startsWith(OPEN)) return { text: content };
  const close = body.indexOf(CLOSE, OPEN.length);
  if (close < 0) return { thinking: body.slice(OPEN.length).trimStart(), text: "" };
  return {
    thinking: body.slice(OPEN.length, close).trimStart(),
    text: body.slice(close + CLOSE.length).trimStart(),
  };
}

export interface ThinkSegment {
  kind: "thinking" | "text";
  text: string;
}

export interface ThinkSplitter {
  /** The next content fragment → what can be emitted now, in order. */
  push(fragment: string): ThinkSegment[];
  /** The stream ended: whatever was held back. */
  end(): ThinkSegment[];
}

type Phase =
  | "lead" // nothing but whitespace yet: a `<think>` may still come
  | "think-lead" // just after `<think>`: skip whitespace
  | "thinking"
  | "text-lead" // just after `</think>`: skip whitespace
  | "text";

export function createThinkSplitter(): ThinkSplitter {
  let phase: Phase = "lead";
  let held = "";

  function push(fragment: string): ThinkSegment[] {
    const out: ThinkSegment[] = [];
    let rest = fragment;
    // Each pass consumes `rest` or moves to a later phase, so this ends.
    while (rest.length > 0) {
      switch (phase) {
        case "text":
          out.push({ kind: "text", text: rest });
          rest = "";
          break;
        case "lead": {
          held += rest;
          rest = "";
          const body = held.trimStart();
          if (body.startsWith(OPEN)) {
            phase = "think-lead";
            rest = body.slice(OPEN.length);
            held = "";
          } else if (held.length <= MAX_LEAD && OPEN.startsWith(body)) {
            // Only whitespace, or `<thi`, so far: wait for more.
          } else {
            // Not a think block; what was held (leading whitespace included) is text.
            phase = "text";
            rest = held;
            held = "";
          }
          break;
        }
        case "think-lead":
        case "text-lead": {
          const body = rest.trimStart();
          rest = body;
          if (body.length > 0) phase = phase === "think-lead" ? "thinking" : "text";
          break;
        }
        case "thinking": {
          const data = held + rest;
          held = "";
          rest = "";
          const close = data.indexOf(CLOSE);
          if (close >= 0) {
            if (close > 0) out.push({ kind: "thinking", text: data.slice(0, close) });
            phase = "text-lead";
            rest = data.slice(close + CLOSE.length);
            break;
          }
          // Hold back a tail that could be the start of `</think>`.
          const keep = partialTagTail(data);
          const emit = data.slice(0, data.length - keep);
          held = data.slice(data.length - keep);
          if (emit) out.push({ kind: "thinking", text: emit });
          break;
        }
      }
    }
    return out;
  }

  function end(): ThinkSegment[] {
    const rest = held;
    held = "";
    if (!rest) return [];
    if (phase === "thinking") return [{ kind: "thinking", text: rest }];
    // A lone `<thi` or whitespace that never became anything: text if it has substance.
    return rest.trim() ? [{ kind: "text", text: rest }] : [];
  }

  return { push, end };
}

/** Length of the longest suffix of `data` that is a proper prefix of `</think>` (0..7). */
function partialTagTail(data: string): number {
  const max = Math.min(CLOSE.length - 1, data.length);
  for (let n = max; n > 0; n--) {
    if (CLOSE.startsWith(data.slice(data.length - n))) return n;
  }
  return 0;
}
