import { describe, expect, test } from "bun:test";
import { UsageWatcher, usageFromTail } from "../../../src/stats/usage.ts";

const encode = (text: string) => new TextEncoder().encode(text);

describe("usageFromTail", () => {
  test("Ollama's final object: prompt_eval_count, eval_count, eval_duration (ns)", () => {
    const tail =
      '{"model":"m","message":{"content":"x"},"done":false}\n' +
      '{"model":"m","done":true,"prompt_eval_count":12,"eval_count":34,"eval_duration":2000000000}\n';
    expect(usageFromTail(tail)).toEqual({ input: 12, output: 34, generationMs: 2000 });
  });

  test("OpenAI usage, whole or in the last SSE chunk; usage:null chunks are no usage", () => {
    expect(
      usageFromTail('{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":9,"total_tokens":16}}'),
    ).toEqual({ input: 7, output: 9 });
    const sse =
      'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n' +
      'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}\n\ndata: [DONE]\n\n';
    expect(usageFromTail(sse)).toEqual({ input: 3, output: 5 });
    expect(
      usageFromTail('data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\ndata: [DONE]\n\n'),
    ).toBe(undefined);
  });

  test("JSON spacing, the last value of each key, and only the end of the tail", () => {
    expect(usageFromTail('{"usage": {"prompt_tokens" :\n 11, "completion_tokens":\t22}}')).toEqual({
      input: 11,
      output: 22,
    });
    // A later non-numeric value does not hide an earlier count in the same object.
    expect(usageFromTail('{"prompt_tokens":5,"completion_tokens":6,"prompt_tokens":null}')).toEqual({
      input: 5,
      output: 6,
    });
    // Anthropic's names; counts from an earlier event far back in the tail are not mixed in.
    const old = `{"eval_count":99}${" ".repeat(600)}`;
    expect(usageFromTail(`${old}{"usage":{"input_tokens":3,"output_tokens":4}}`)).toEqual({
      input: 3,
      output: 4,
    });
  });

  test("no usage → undefined, never zero", () => {
    expect(usageFromTail('{"choices":[{"message":{"content":"hello"}}]}')).toBeUndefined();
    expect(usageFromTail("")).toBeUndefined();
  });
});

describe("usage watcher", () => {
  const watch = (limit: number, ...reads: string[]) => {
    const watcher = new UsageWatcher(limit);
    for (const read of reads) watcher.push(encode(read));
    return watcher.result();
  };

  test("an event split across reads is joined: the first read ends inside it", () => {
    expect(
      watch(64, "x".repeat(1000), 'data: {"usage":{"prompt_', 'tokens":4,"completion_tokens":6}}\n\n'),
    ).toEqual({ input: 4, output: 6 });
  });

  test("OpenAI: the usage chunk, then [DONE] in a read of its own", () => {
    expect(
      watch(
        2048,
        'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n',
        'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}\n\n',
        "data: [DONE]\n\n",
      ),
    ).toEqual({ input: 3, output: 5 });
  });

  test("Ollama: the final NDJSON object, its long context array before the counts", () => {
    const final = `{"done":true,"context":[${"1,".repeat(3000)}2],"prompt_eval_count":26,"eval_count":290,"eval_duration":4709213000}\n`;
    expect(watch(2048, '{"response":"a","done":false}\n', final)).toEqual({
      input: 26,
      output: 290,
      generationMs: 4709.213,
    });
  });

  test("the last counts seen win; a later read without counts (or only mentioning them) keeps them", () => {
    const usage = (n: number) => `data: {"usage":{"prompt_tokens":1,"completion_tokens":${n}}}\n\n`;
    expect(
      watch(2048, usage(1), usage(2), 'data: {"delta":"the _tokens word"}\n\n', "data: [DONE]\n\n"),
    ).toEqual({
      input: 1,
      output: 2,
    });
  });

  test("a whole JSON body without a final newline is read at the end", () => {
    expect(watch(2048, '{"choices":[],"usage":{"prompt_tokens":7,', '"completion_tokens":9}}')).toEqual({
      input: 7,
      output: 9,
    });
  });

  test("only the last `limit` bytes of a large read are looked at", () => {
    expect(watch(32, `${'"eval_count":1,'.repeat(10)}${"y".repeat(5000)}"eval_count":5}`)).toEqual({
      input: 0,
      output: 5,
    });
    expect(watch(32, `"eval_count":5,${"y".repeat(5000)}}`)).toBeUndefined();
  });

  test("no counts at all: unknown, never zero", () => {
    expect(watch(2048, 'data: {"choices":[]}\n\n', "data: [DONE]\n\n")).toBeUndefined();
    expect(watch(2048)).toBeUndefined();
  });

  test("a read that ends where an event ends is not kept (it would outlive the GC's young generation)", async () => {
    const watcher = new UsageWatcher();
    const refs = (() => {
      const made: WeakRef<Uint8Array>[] = [];
      for (let i = 0; i < 50; i++) {
        const read = encode(`data: {"choices":[{"delta":{"content":"${i}"}}]}\n\n`);
        watcher.push(read);
        made.push(new WeakRef(read));
      }
      return made;
    })();
    for (let i = 0; i < 5; i++) {
      await Bun.sleep(0);
      Bun.gc(true);
    }
    // The last read above all: the one a keeper of "the last read" would hold.
    expect(refs.at(-1)!.deref()).toBeUndefined();
    // The stack is scanned conservatively, so a stray pointer may keep one of the others alive.
    expect(refs.filter((ref) => ref.deref() !== undefined).length).toBeLessThan(3);
    expect(watcher.result()).toBeUndefined();
  });
});
