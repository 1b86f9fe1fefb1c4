import { describe, expect, test } from "bun:test";
import {
  BodyTimeoutError,
  BodyTooLargeError,
  inspectBody,
  inspectJson,
  readBody,
  rewriteModel,
} from "../../../src/proxy/inspect.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("inspectJson", () => {
  test.each([
    ['{"model":"llama3.2:3b","stream":true}', { model: "llama3.2:3b", stream: true }],
    ['{ "stream" : false , "model" : "Qwen/Qwen3-8B" }', { model: "Qwen/Qwen3-8B", stream: false }],
    [
      '{"messages":[{"role":"user","content":"{\\"model\\": \\"fake\\"}"}],"model":"real"}',
      { model: "real" },
    ],
    ['{"options":{"model":"nested","stream":true},"model":"top"}', { model: "top" }],
    ['{"model":"caf\\u00e9 \\"x\\""}', { model: 'café "x"' }],
    ['{"prompt":"a\\\\","model":"after-escaped-backslash"}', { model: "after-escaped-backslash" }],
    ["{}", {}],
    ['{"model":null}', { modelNotString: true }],
    ['{"model":42}', { modelNotString: true }],
    ['{"model":{"name":"x"}}', { modelNotString: true }],
    ['{"model":"x"', { model: "x", malformed: true }],
    ['{"model":"unterminated', { malformed: true }],
    ["[1,2]", { malformed: true }],
    ["  \n", {}],
    // The top level's structure is checked, whatever comes first: the endpoint should not be the one to say.
    ['{"model":"gpt-x","messages":[],"stream":nope}', { model: "gpt-x", malformed: true }],
    ['{"model":"gpt-x",}', { model: "gpt-x", malformed: true }],
    ['{"model":"gpt-x","stream":true}garbage', { model: "gpt-x", stream: true, malformed: true }],
    ['{"model":"gpt-x","stream":true}}', { model: "gpt-x", stream: true, malformed: true }],
    ['{"model":"gpt-x" "messages":[]}', { model: "gpt-x", malformed: true }],
    ['{"model":"gpt-x":"y"}', { model: "gpt-x", malformed: true }],
    ['{model:"gpt-x"}', { malformed: true }],
    ['{"model":"m","temperature":0.7,"top_k":-1,"seed":1e3,"x":null,"y":false} \n', { model: "m" }],
    ['{"model":"m","temperature":07}', { model: "m", malformed: true }],
    ['{"stream":"yes","model":"m"}', { model: "m" }],
  ])("%s", (text, facts) => {
    const { modelAt: _, ...found } = inspectJson(bytes(text));
    expect(found).toEqual(facts);
  });

  test("where the conversation lies is looked for only when asked: messages, else prompt", () => {
    const text = (body: string) => {
      const facts = inspectJson(bytes(body), true);
      if (facts.conversationStart === undefined) return undefined;
      return body.slice(facts.conversationStart, facts.conversationEnd);
    };
    const chat = '{"model":"m","messages":[{"role":"user","content":"hi ]"}],"stream":true}';
    expect(inspectJson(bytes(chat))).toEqual({ model: "m", modelAt: [9, 12], stream: true });
    expect(text(chat)).toBe('[{"role":"user","content":"hi ]"}]');
    expect(text('{"prompt":"Once","model":"m"}')).toBe('"Once"');
    expect(text('{"prompt":["a","b"]}')).toBe('["a","b"]');
    expect(text('{"prompt":"p","messages":[1]}')).toBe("[1]");
    expect(text('{"messages":[1],"prompt":"p"}')).toBe("[1]");
    expect(text('{"messages":[ ],"prompt":"p"}')).toBe('"p"');
    expect(text('{"messages":[]}')).toBeUndefined();
    expect(text('{"messages":null,"prompt":null}')).toBeUndefined();
    expect(text('{"input":"x","options":{"messages":[1]}}')).toBeUndefined();
    // A body cut short (the first bytes of one still arriving): from its start to what there is.
    expect(text('{"model":"m","messages":[{"role":"user","content":"a long')).toBe(
      '[{"role":"user","content":"a long',
    );
  });

  test("the model's byte range lets it be rewritten, the rest kept byte for byte", () => {
    const body = bytes('{ "stream": true, "model" : "fast",\n "messages": [{"content": "\\"model\\""}] }');
    const facts = inspectJson(body);
    expect(new TextDecoder().decode(body.subarray(...facts.modelAt!))).toBe('"fast"');
    const rewritten = new TextDecoder().decode(rewriteModel(body, facts.modelAt!, "llama3.2:3b-instruct"));
    expect(rewritten).toBe(
      '{ "stream": true, "model" : "llama3.2:3b-instruct",\n "messages": [{"content": "\\"model\\""}] }',
    );
    expect(JSON.parse(rewritten).model).toBe("llama3.2:3b-instruct");
  });

  test("a 10 MB prompt is scanned without parsing it", () => {
    const big = bytes(
      `{"model":"m","messages":[{"role":"user","content":"${"x".repeat(10 * 1024 * 1024)}"}],"stream":true}`,
    );
    const started = performance.now();
    expect(inspectJson(big)).toMatchObject({ model: "m", stream: true });
    expect(performance.now() - started).toBeLessThan(200);
  });

  test("only JSON bodies are inspected", () => {
    expect(
      inspectBody(bytes("--x\r\nContent-Disposition: form-data"), "multipart/form-data; boundary=x"),
    ).toEqual({});
    expect(inspectBody(bytes("model=m"), "application/x-www-form-urlencoded")).toEqual({});
    expect(inspectBody(bytes('{"model":"m"}'), null)).toMatchObject({ model: "m" });
    expect(inspectBody(bytes('{"model":'), "application/json")).toMatchObject({ malformed: true });
    expect(inspectBody(null, "application/json")).toEqual({});
  });

  test("a JSON object sent as another type (curl -d) is read, but not refused when malformed", () => {
    const form = "application/x-www-form-urlencoded";
    expect(inspectBody(bytes(' {"model":"llama3.2","stream":false}'), form)).toEqual({
      model: "llama3.2",
      modelAt: [10, 20],
      stream: false,
    });
    expect(inspectBody(bytes('{"model":'), form)).toEqual({});
    expect(inspectBody(bytes('{"model":"m"}'), "text/plain")).toMatchObject({ model: "m" });
  });
});

describe("readBody", () => {
  test("reads a body within the limit", async () => {
    const request = new Request("http://x/", { method: "POST", body: "hello" });
    expect(new TextDecoder().decode((await readBody(request, 10))!)).toBe("hello");
  });

  test("a declared Content-Length over the limit is refused before reading", async () => {
    const request = new Request("http://x/", { method: "POST", body: "x".repeat(20) });
    await expect(readBody(request, 10)).rejects.toBeInstanceOf(BodyTooLargeError);
  });

  test("a chunked body is cut at the limit", async () => {
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    const request = new Request("http://x/", {
      method: "POST",
      body: endless,
      duplex: "half",
    } as RequestInit);
    await expect(readBody(request, 10_000)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(sent).toBeLessThan(20);
  });

  /** A request whose body sends one byte, then nothing until `stop` (or until the reader cancels it). */
  const stalled = () => {
    let stop = () => {};
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes("{"));
        stop = () => {
          if (!cancelled) controller.close();
        };
      },
      cancel() {
        cancelled = true;
      },
    });
    const request = new Request("http://x/", { method: "POST", body, duplex: "half" } as RequestInit);
    return { request, stop, cancelled: () => cancelled };
  };

  test("a body that stalls fails with BodyTimeoutError after timeoutMs, chunked or with a length", async () => {
    const chunked = stalled();
    const started = performance.now();
    await expect(readBody(chunked.request, 0, 50)).rejects.toBeInstanceOf(BodyTimeoutError);
    expect(performance.now() - started).toBeLessThan(1000);
    // The chunked read is given up, not left pending.
    expect(chunked.cancelled()).toBe(true);
    const sized = stalled();
    sized.request.headers.set("content-length", "100");
    await expect(readBody(sized.request, 0, 50)).rejects.toBeInstanceOf(BodyTimeoutError);
    sized.stop();
  });

  test("a body that arrives in time is read whole; timeoutMs 0 means no deadline", async () => {
    expect(
      (await readBody(new Request("http://x/", { method: "POST", body: "hi" }), 0, 50))!.byteLength,
    ).toBe(2);
    const slow = stalled();
    const read = readBody(slow.request, 0, 0);
    await Bun.sleep(100);
    slow.stop();
    expect(new TextDecoder().decode((await read)!)).toBe("{");
  });

  test("no body, no bytes", async () => {
    expect(await readBody(new Request("http://x/"), 10)).toBeNull();
  });

  test("Content-Length: 0 is no body; a declared length is read whole", async () => {
    const empty = new Request("http://x/", { method: "POST", body: "", headers: { "content-length": "0" } });
    expect(await readBody(empty, 10)).toBeNull();
    const sized = new Request("http://x/", {
      method: "POST",
      body: "hello",
      headers: { "content-length": "5" },
    });
    expect(new TextDecoder().decode((await readBody(sized, 10, 1000))!)).toBe("hello");
  });
});
