import { describe, expect, test } from "bun:test";
import { TailKeeper, usageFromTail } from "../../../src/stats/usage.ts";

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

describe("tail keeper", () => {
  test("keeps the end of a stream across the last two chunks, without copying each chunk", () => {
    const keeper = new TailKeeper(64);
    keeper.push(encode("x".repeat(1000)));
    keeper.push(encode('data: {"usage":{"prompt_'));
    keeper.push(encode('tokens":4,"completion_tokens":6}}\n\n'));
    expect(usageFromTail(keeper.text())).toEqual({ input: 4, output: 6 });
    expect(keeper.text().length).toBeLessThanOrEqual(64);
  });

  test("a single large last chunk is cut to its end", () => {
    const keeper = new TailKeeper(32);
    keeper.push(encode(`${"y".repeat(5000)}"eval_count":5}`));
    expect(keeper.text()).toBe(`${"y".repeat(17)}"eval_count":5}`);
  });
});
