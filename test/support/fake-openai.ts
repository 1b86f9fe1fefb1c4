// OpenAI wire format (chat completions, text completions, embeddings, model list) in each server's dialect:
// vLLM/SGLang add `stop_reason`-style choice fields, llama.cpp adds `timings`, Ollama and LM Studio set their
// own `system_fingerprint`.
import {
  countTokens,
  embeddingInputs,
  embeddingOf,
  float32Base64,
  randomId,
  replyTokens,
  textOf,
  toolToCall,
  unixNow,
} from "./fake-content.ts";
import { type RouteContext, SSE, sseFrame } from "./fake-context.ts";
import { errorResponse, modelNotFound } from "./fake-errors.ts";
import { openaiModelList } from "./fake-models.ts";
import type { FakeKind } from "./fake-types.ts";

interface Dialect {
  fingerprint(model: string): string | undefined;
  choiceExtra: Record<string, unknown>;
  timings: boolean;
}

const DIALECTS: Record<FakeKind, Dialect> = {
  openai: { fingerprint: () => "fp_f4ke0001", choiceExtra: { logprobs: null }, timings: false },
  ollama: { fingerprint: () => "fp_ollama", choiceExtra: {}, timings: false },
  vllm: { fingerprint: () => undefined, choiceExtra: { logprobs: null, stop_reason: null }, timings: false },
  sglang: {
    fingerprint: () => undefined,
    choiceExtra: { logprobs: null, matched_stop: null },
    timings: false,
  },
  llamacpp: { fingerprint: () => "b6000-f4ke", choiceExtra: {}, timings: true },
  lmstudio: { fingerprint: (model) => model, choiceExtra: { logprobs: null }, timings: false },
};

function usage(prompt: number, completion: number) {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function timings(prompt: number, predicted: number) {
  return {
    prompt_n: prompt,
    prompt_ms: 12.5,
    prompt_per_token_ms: 12.5 / prompt,
    prompt_per_second: (prompt * 1000) / 12.5,
    predicted_n: predicted,
    predicted_ms: predicted * 20,
    predicted_per_token_ms: 20,
    predicted_per_second: 50,
  };
}

function includeUsage(body: Record<string, unknown>): boolean {
  return (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
}

export function listModels(ctx: RouteContext): Response {
  return Response.json(openaiModelList(ctx.kind, ctx.models()));
}

export async function chatCompletions(ctx: RouteContext): Promise<Response> {
  const { body, kind } = ctx;
  if (!Array.isArray(body.messages))
    return errorResponse(kind, ctx.path, 400, "'messages' is a required property");
  const found = await ctx.useModel(body.model);
  if (!found) return modelNotFound(kind, ctx.path, body.model);
  const model = typeof body.model === "string" ? body.model : found.id;
  const dialect = DIALECTS[kind];
  const fingerprint = dialect.fingerprint(model);
  const base = {
    id: randomId("chatcmpl-"),
    created: unixNow(),
    model,
    ...(fingerprint === undefined ? {} : { system_fingerprint: fingerprint }),
  };
  const tokens = replyTokens(ctx.behaviour.chunks);
  const tool = ctx.behaviour.toolCalls ? toolToCall(body) : null;
  const call = tool
    ? { id: randomId("call_", 12), type: "function", function: { name: tool, arguments: "{}" } }
    : null;
  const promptTokens = countTokens(textOf(body.messages));
  const use = usage(promptTokens, tokens.length);
  const finish = call ? "tool_calls" : "stop";
  const extra = dialect.timings ? { timings: timings(promptTokens, tokens.length) } : {};

  if (body.stream !== true) {
    const message = call
      ? { role: "assistant", content: null, tool_calls: [call] }
      : { role: "assistant", content: tokens.join("") };
    return ctx.answer({
      ...base,
      object: "chat.completion",
      choices: [{ index: 0, message, ...dialect.choiceExtra, finish_reason: finish }],
      usage: use,
      ...extra,
    });
  }

  const withUsage = includeUsage(body);
  const chunk = (delta: Record<string, unknown>, finishReason: string | null, more: object = {}) =>
    sseFrame({
      ...base,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, ...dialect.choiceExtra, finish_reason: finishReason }],
      ...(withUsage ? { usage: null } : {}),
      ...more,
    });
  const frames = call
    ? [
        chunk(
          {
            role: "assistant",
            content: null,
            tool_calls: [{ index: 0, ...call, function: { name: call.function.name, arguments: "" } }],
          },
          null,
        ),
        chunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments } }] }, null),
      ]
    : [chunk({ role: "assistant", content: "" }, null), ...tokens.map((t) => chunk({ content: t }, null))];
  frames.push(chunk({}, finish, extra));
  if (withUsage) frames.push(sseFrame({ ...base, object: "chat.completion.chunk", choices: [], usage: use }));
  frames.push(sseFrame("[DONE]"));
  return ctx.stream(frames, SSE);
}

export async function textCompletions(ctx: RouteContext): Promise<Response> {
  const { body, kind } = ctx;
  if (body.prompt === undefined) return errorResponse(kind, ctx.path, 400, "'prompt' is a required property");
  const found = await ctx.useModel(body.model);
  if (!found) return modelNotFound(kind, ctx.path, body.model);
  const model = typeof body.model === "string" ? body.model : found.id;
  const dialect = DIALECTS[kind];
  const fingerprint = dialect.fingerprint(model);
  const base = {
    id: randomId("cmpl-"),
    object: "text_completion",
    created: unixNow(),
    model,
    ...(fingerprint === undefined ? {} : { system_fingerprint: fingerprint }),
  };
  const tokens = replyTokens(ctx.behaviour.chunks);
  const use = usage(countTokens(textOf(body.prompt)), tokens.length);
  const choice = (text: string, finish: string | null) => ({
    text,
    index: 0,
    logprobs: null,
    finish_reason: finish,
    ...(dialect.choiceExtra.stop_reason === null ? { stop_reason: null } : {}),
  });

  if (body.stream !== true) {
    return ctx.answer({ ...base, choices: [choice(tokens.join(""), "stop")], usage: use });
  }
  const withUsage = includeUsage(body);
  const chunk = (text: string, finish: string | null) =>
    sseFrame({ ...base, choices: [choice(text, finish)], ...(withUsage ? { usage: null } : {}) });
  const frames = [...tokens.map((t) => chunk(t, null)), chunk("", "stop")];
  if (withUsage) frames.push(sseFrame({ ...base, choices: [], usage: use }));
  frames.push(sseFrame("[DONE]"));
  return ctx.stream(frames, SSE);
}

export async function embeddings(ctx: RouteContext): Promise<Response> {
  const { body, kind } = ctx;
  if (body.input === undefined) return errorResponse(kind, ctx.path, 400, "'input' is a required property");
  const found = await ctx.useModel(body.model);
  if (!found) return modelNotFound(kind, ctx.path, body.model);
  const inputs = embeddingInputs(body.input);
  const base64 = body.encoding_format === "base64";
  const prompt = inputs.reduce((n, text) => n + countTokens(text), 0);
  return ctx.answer({
    object: "list",
    data: inputs.map((text, index) => {
      const vector = embeddingOf(text, ctx.behaviour.embeddingDims);
      return { object: "embedding", index, embedding: base64 ? float32Base64(vector) : vector };
    }),
    model: typeof body.model === "string" ? body.model : found.id,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  });
}
