// Ollama's native API: NDJSON chat/generate (stream unless `stream:false`, final object with `done:true`
// and the timing fields), embed/embeddings, tags, ps, show, version.
import {
  countTokens,
  embeddingInputs,
  embeddingOf,
  randomId,
  replyTokens,
  textOf,
  toolToCall,
} from "./fake-content.ts";
import { NDJSON, type RouteContext } from "./fake-context.ts";
import { modelNotFound } from "./fake-errors.ts";
import { ollamaPs, ollamaShow, ollamaTags } from "./fake-models.ts";

export const OLLAMA_VERSION = "0.12.6";

const MS = 1_000_000;

function stats(promptTokens: number, evalCount: number) {
  const load = 1.5 * MS;
  const prompt = 12.5 * MS;
  const evalDuration = evalCount * 20 * MS;
  return {
    total_duration: load + prompt + evalDuration + 0.5 * MS,
    load_duration: load,
    prompt_eval_count: promptTokens,
    prompt_eval_duration: prompt,
    eval_count: evalCount,
    eval_duration: evalDuration,
  };
}

const line = (value: unknown) => `${JSON.stringify(value)}\n`;
const now = () => new Date().toISOString();

export async function chat(ctx: RouteContext): Promise<Response> {
  const { body } = ctx;
  const found = await ctx.useModel(body.model);
  if (!found) return modelNotFound(ctx.kind, ctx.path, body.model);
  const model = body.model as string;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const stream = body.stream !== false;
  if (messages.length === 0) {
    const loaded = {
      model,
      created_at: now(),
      message: { role: "assistant", content: "" },
      done_reason: "load",
      done: true,
    };
    return stream ? ctx.stream([line(loaded)], NDJSON) : ctx.answer(loaded);
  }
  const tokens = replyTokens(ctx.behaviour.chunks);
  const tool = ctx.behaviour.toolCalls ? toolToCall(body) : null;
  const toolCalls = tool
    ? [{ id: randomId("call_", 8), function: { index: 0, name: tool, arguments: {} } }]
    : null;
  const final = {
    done_reason: "stop",
    done: true,
    ...stats(countTokens(textOf(messages)), tokens.length),
  };
  if (!stream) {
    const message = toolCalls
      ? { role: "assistant", content: "", tool_calls: toolCalls }
      : { role: "assistant", content: tokens.join("") };
    return ctx.answer({ model, created_at: now(), message, ...final });
  }
  const pieces = toolCalls
    ? [{ role: "assistant", content: "", tool_calls: toolCalls }]
    : tokens.map((content) => ({ role: "assistant", content }));
  const frames = pieces.map((message) => line({ model, created_at: now(), message, done: false }));
  frames.push(line({ model, created_at: now(), message: { role: "assistant", content: "" }, ...final }));
  return ctx.stream(frames, NDJSON);
}

export async function generate(ctx: RouteContext): Promise<Response> {
  const { body } = ctx;
  const found = await ctx.useModel(body.model);
  if (!found) return modelNotFound(ctx.kind, ctx.path, body.model);
  const model = body.model as string;
  const stream = body.stream !== false;
  const prompt = textOf(body.prompt);
  if (prompt === "") {
    const loaded = { model, created_at: now(), response: "", done: true, done_reason: "load" };
    return stream ? ctx.stream([line(loaded)], NDJSON) : ctx.answer(loaded);
  }
  const tokens = replyTokens(ctx.behaviour.chunks);
  const final = {
    done: true,
    done_reason: "stop",
    context: [128006, 882, 128007],
    ...stats(countTokens(prompt), tokens.length),
  };
  if (!stream) return ctx.answer({ model, created_at: now(), response: tokens.join(""), ...final });
  const frames = tokens.map((response) => line({ model, created_at: now(), response, done: false }));
  frames.push(line({ model, created_at: now(), response: "", ...final }));
  return ctx.stream(frames, NDJSON);
}

export async function embed(ctx: RouteContext): Promise<Response> {
  const { body } = ctx;
  const found = await ctx.useModel(body.model);
  if (!found) return modelNotFound(ctx.kind, ctx.path, body.model);
  const inputs = embeddingInputs(body.input ?? "");
  return ctx.answer({
    model: body.model,
    embeddings: inputs.map((text) => embeddingOf(text, ctx.behaviour.embeddingDims)),
    total_duration: 14 * MS,
    load_duration: 1.5 * MS,
    prompt_eval_count: inputs.reduce((n, text) => n + countTokens(text), 0),
  });
}

/** The legacy single-vector endpoint (`prompt` in, `embedding` out). */
export async function embeddingsLegacy(ctx: RouteContext): Promise<Response> {
  const { body } = ctx;
  const found = await ctx.useModel(body.model);
  if (!found) return modelNotFound(ctx.kind, ctx.path, body.model);
  return ctx.answer({ embedding: embeddingOf(textOf(body.prompt), ctx.behaviour.embeddingDims) });
}

export const tags = (ctx: RouteContext) => Response.json(ollamaTags(ctx.models()));
export const ps = (ctx: RouteContext) => Response.json(ollamaPs(ctx.models()));
export const version = () => Response.json({ version: OLLAMA_VERSION });
export const running = () =>
  new Response("Ollama is running", { headers: { "content-type": "text/plain; charset=utf-8" } });

export async function show(ctx: RouteContext): Promise<Response> {
  const name = ctx.body.model ?? ctx.body.name;
  const found = ctx.models().find((m) => m.id === name || m.id === `${name}:latest`);
  return found ? Response.json(ollamaShow(found)) : modelNotFound(ctx.kind, ctx.path, name);
}
