// Which of a profile's anthropic_support.limitations a request runs into, so the wiring can keep
// passthrough to the endpoints that can serve it natively (Olla §11.1: the three enforced ones).
import type { ContentBlockParam, MessagesRequest } from "./schema-request.ts";

export type Limitation = "no_tool_use" | "no_extended_thinking" | "no_vision";

/** The limitations that rule out passthrough for this request: tools given, thinking asked for, or an
 *  image anywhere (tool results included). */
export function clashingLimitations(req: MessagesRequest): Limitation[] {
  const out: Limitation[] = [];
  if (req.tools && req.tools.length > 0) out.push("no_tool_use");
  if (req.thinking && req.thinking.type !== "disabled") out.push("no_extended_thinking");
  if (req.messages.some((m) => typeof m.content !== "string" && m.content.some(hasImage)))
    out.push("no_vision");
  return out;
}

function hasImage(block: ContentBlockParam): boolean {
  if (block.type === "image") return true;
  return (
    block.type === "tool_result" &&
    Array.isArray(block.content) &&
    block.content.some((b) => b.type === "image")
  );
}
