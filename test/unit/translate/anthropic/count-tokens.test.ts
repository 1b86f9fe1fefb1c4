import { describe, expect, test } from "bun:test";
import {
  ATTACHMENT_TOKENS,
  countTokensBody,
  countTokensPath,
  estimateInputTokens,
  parseCountTokensRequest,
  readCountTokens,
  TOKEN_COUNT_HEADER,
} from "../../../../src/translate/index.ts";

const estimate = (body: object) => estimateInputTokens(parseCountTokensRequest({ model: "m", ...body }));

describe("count_tokens estimate", () => {
  test("ceil(chars / 4) over the system prompt and message text, at least 1", () => {
    expect(estimate({ messages: [{ role: "user", content: "" }] })).toBe(1);
    expect(estimate({ messages: [{ role: "user", content: "abcd" }] })).toBe(1);
    expect(estimate({ messages: [{ role: "user", content: "abcde" }] })).toBe(2);
    expect(estimate({ system: "12345678", messages: [{ role: "user", content: "abcd" }] })).toBe(3);
    expect(
      estimate({
        system: [
          { type: "text", text: "1234" },
          { type: "text", text: "5678" },
        ], // joined with "\n": 9 chars
        messages: [{ role: "user", content: [{ type: "text", text: "abc" }] }],
      }),
    ).toBe(3);
  });

  test("tool use, tool results, thinking, documents and tool definitions count; images a flat cost", () => {
    const input = { path: "src/a.ts" }; // JSON 19 chars
    const tools = [{ name: "read", description: "Read a file", input_schema: { type: "object" } }]; // 4 + 11 + 17
    const messages = [
      {
        role: "user",
        content: [
          { type: "image", source: { type: "base64", media_type: "image/png", data: "A".repeat(10_000) } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "hmm!", signature: "s" }, // 4
          { type: "tool_use", id: "t", name: "read", input }, // 4 + 19
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: "file body" }] }, // 9
          { type: "document", source: { type: "text", media_type: "text/plain", data: "doc" } }, // 3
          { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBE" } },
        ],
      },
    ];
    const chars = 4 + 4 + 19 + 9 + 3 + 4 + 11 + 17;
    expect(estimate({ messages, tools })).toBe(Math.ceil(chars / 4) + 2 * ATTACHMENT_TOKENS);
  });

  test("count_tokens validation: messages required, max_tokens not", () => {
    expect(() => parseCountTokensRequest({ model: "m" })).toThrow("messages: Field required");
    expect(parseCountTokensRequest({ model: "m", messages: [{ role: "user", content: "x" }] })).toBeTruthy();
  });

  test("answer body, label header, backend path and reading a backend's answer", () => {
    expect(countTokensBody(42)).toEqual({ input_tokens: 42 });
    expect(TOKEN_COUNT_HEADER).toBe("x-olla-token-count");
    expect(countTokensPath("/v1/messages")).toBe("/v1/messages/count_tokens");
    expect(countTokensPath("/anthropic/v1/messages/")).toBe("/anthropic/v1/messages/count_tokens");
    expect(readCountTokens({ input_tokens: 17 })).toBe(17);
    expect(readCountTokens({ input_tokens: -1 })).toBeUndefined();
    expect(readCountTokens({ tokens: [1, 2] })).toBeUndefined();
    expect(readCountTokens("17")).toBeUndefined();
  });
});
