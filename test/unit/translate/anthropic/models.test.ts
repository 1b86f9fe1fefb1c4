import { expect, test } from "bun:test";
import { anthropicModelList, AnthropicResponseSchema } from "../../../../src/translate/index.ts";
import { checker } from "../../../../src/translate/anthropic/validate.ts";

const list = checker(AnthropicResponseSchema.ModelList);

test("model names → Anthropic's list page", () => {
  const started = new Date("2026-03-01T12:34:56.789Z");
  const page = anthropicModelList(
    ["qwen3:8b", { id: "llama3.2:3b", display_name: "Llama 3.2 3B", created_at: "2025-01-01T00:00:00Z" }],
    started,
  );
  expect(list.explain(page)).toBeUndefined();
  expect(page).toEqual({
    data: [
      { type: "model", id: "qwen3:8b", display_name: "qwen3:8b", created_at: "2026-03-01T12:34:56Z" },
      { type: "model", id: "llama3.2:3b", display_name: "Llama 3.2 3B", created_at: "2025-01-01T00:00:00Z" },
    ],
    has_more: false,
    first_id: "qwen3:8b",
    last_id: "llama3.2:3b",
  });
});

test("an empty list has null first/last ids; a string timestamp is used as given", () => {
  expect(anthropicModelList([], "2026-01-01T00:00:00Z")).toEqual({
    data: [],
    has_more: false,
    first_id: null,
    last_id: null,
  });
  expect(anthropicModelList(["a"], "2026-01-01T00:00:00Z").data[0]?.created_at).toBe("2026-01-01T00:00:00Z");
});
