// Anthropic Messages API (`POST /v1/messages`) as served natively by Ollama, LM Studio, llama.cpp and vLLM:
// one JSON message, or the named SSE events message_start … message_stop. Text answers only.
import { countTokens, randomId, replyTokens, textOf } from "./fake-content.ts";
import { type RouteContext, SSE, sseFrame } from "./fake-context.ts";
import { errorResponse, modelNotFound } from "./fake-errors.ts";

export async function messages(ctx: RouteContext): Promise<Response> {
  const { body } = ctx;
  if (!Array.isArray(body.messages))
    return errorResponse(ctx.kind, ctx.path, 400, "messages: Field required");
  const found = await ctx.useModel(body.model);
  if (!found) return modelNotFound(ctx.kind, ctx.path, body.model);
  const model = typeof body.model === "string" ? body.model : found.id;
  const tokens = replyTokens(ctx.behaviour.chunks);
  const input = countTokens(textOf(body.system ?? "") + textOf(body.messages));
  const message = {
    id: randomId("msg_"),
    type: "message",
    role: "assistant",
    model,
    content: [] as { type: "text"; text: string }[],
    stop_reason: null as string | null,
    stop_sequence: null,
    usage: { input_tokens: input, output_tokens: 0 },
  };
  if (body.stream !== true) {
    return ctx.answer({
      ...message,
      content: [{ type: "text", text: tokens.join("") }],
      stop_reason: "end_turn",
      usage: { input_tokens: input, output_tokens: tokens.length },
    });
  }
  const event = (type: string, data: Record<string, unknown>) => sseFrame({ type, ...data }, type);
  return ctx.stream(
    [
      event("message_start", { message }),
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      event("ping", {}),
      ...tokens.map((text) =>
        event("content_block_delta", { index: 0, delta: { type: "text_delta", text } }),
      ),
      event("content_block_stop", { index: 0 }),
      event("message_delta", {
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: tokens.length },
      }),
      event("message_stop", {}),
    ],
    SSE,
  );
}

/** `POST /v1/messages/count_tokens` (llama.cpp): the fake's own token count of system + messages, for a
 * model it serves (404 otherwise, as for messages). */
export async function countTokensRoute(ctx: RouteContext): Promise<Response> {
  const { body } = ctx;
  if (!Array.isArray(body.messages))
    return errorResponse(ctx.kind, ctx.path, 400, "messages: Field required");
  if (!(await ctx.useModel(body.model))) return modelNotFound(ctx.kind, ctx.path, body.model);
  return Response.json({ input_tokens: countTokens(textOf(body.system ?? "") + textOf(body.messages)) });
}
