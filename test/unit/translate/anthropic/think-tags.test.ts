import { describe, expect, test } from "bun:test";
import {
  createThinkSplitter,
  splitThinkTags,
  type ThinkSegment,
} from "../../../../src/translate/anthropic/think-tags.ts";

/** Feeds the pieces and merges adjacent segments of a kind (as the block logic does). */
function stream(pieces: string[]): { thinking?: string; text: string; kinds: string[] } {
  const splitter = createThinkSplitter();
  const segments: ThinkSegment[] = [];
  for (const piece of pieces) segments.push(...splitter.push(piece));
  segments.push(...splitter.end());
  const kinds: string[] = [];
  let thinking: string | undefined;
  let text = "";
  for (const s of segments) {
    if (kinds[kinds.length - 1] !== s.kind) kinds.push(s.kind);
    if (s.kind === "thinking") thinking = (thinking ?? "") + s.text;
    else text += s.text;
  }
  return thinking === undefined ? { text, kinds } : { thinking, text, kinds };
}

const cases: [string, { thinking?: string; text: string }][] = [
  ["Plain answer.", { text: "Plain answer." }],
  ["<think>a</think>b", { thinking: "a", text: "b" }],
  [
    "<think>\nreason 1 < 2, </thin not yet\n</think>\n\nAnswer",
    { thinking: "reason 1 < 2, </thin not yet\n", text: "Answer" },
  ],
  ["  \n<think>x</think>y", { thinking: "x", text: "y" }],
  ["<think>unterminated", { thinking: "unterminated", text: "" }],
  ["<thinking>is not the tag", { text: "<thinking>is not the tag" }],
  ["<b>bold</b>", { text: "<b>bold</b>" }],
  ["a <think>later</think> is text", { text: "a <think>later</think> is text" }],
  // Qwen3 with thinking switched off.
  ["<think>\n\n</think>\n\nOnly text", { thinking: "", text: "Only text" }],
];

describe("splitThinkTags (whole content)", () => {
  test.each(cases)("%j", (content, expected) => {
    const split = splitThinkTags(content);
    if (expected.thinking === undefined) expect(split).toEqual({ text: content });
    else expect(split).toEqual({ thinking: expected.thinking, text: expected.text });
  });
});

describe("createThinkSplitter (streamed content)", () => {
  test.each(cases)(
    "%j: same result in one piece, every two-piece cut, and char by char",
    (content, expected) => {
      const want = expected.thinking === undefined ? { text: content } : expected;
      const strip = ({ thinking, text }: { thinking?: string; text: string }) =>
        thinking === undefined ? { text } : { thinking, text };
      // `<think></think>`: the streamed form emits no empty thinking segment.
      const wanted = want.thinking === "" ? { text: want.text } : want;
      expect(strip(stream([content]))).toEqual(wanted);
      for (let cut = 1; cut < content.length; cut++) {
        expect(strip(stream([content.slice(0, cut), content.slice(cut)]))).toEqual(wanted);
      }
      expect(strip(stream([...content]))).toEqual(wanted);
    },
  );

  test("emits as it goes, holding back only a possible tag", () => {
    const splitter = createThinkSplitter();
    expect(splitter.push("<thi")).toEqual([]); // could still be <think>
    expect(splitter.push("nk>Let me")).toEqual([{ kind: "thinking", text: "Let me" }]);
    expect(splitter.push(" see</")).toEqual([{ kind: "thinking", text: " see" }]); // "</" held
    expect(splitter.push("b>")).toEqual([{ kind: "thinking", text: "</b>" }]); // it was not the tag
    expect(splitter.push("</think>\n")).toEqual([]); // whitespace after the tag waits
    expect(splitter.push("\nDone")).toEqual([{ kind: "text", text: "Done" }]);
    expect(splitter.push(" <think>")).toEqual([{ kind: "text", text: " <think>" }]); // mid-text: literal
    expect(splitter.end()).toEqual([]);
  });

  test("text that starts like the tag is released as soon as it differs", () => {
    const splitter = createThinkSplitter();
    expect(splitter.push("<t")).toEqual([]);
    expect(splitter.push("able>")).toEqual([{ kind: "text", text: "<table>" }]);
  });

  test("leading whitespace alone is held, then dropped if nothing follows", () => {
    const splitter = createThinkSplitter();
    expect(splitter.push("\n\n")).toEqual([]);
    expect(splitter.end()).toEqual([]);
    const long = createThinkSplitter();
    expect(long.push(" ".repeat(300))).toEqual([{ kind: "text", text: " ".repeat(300) }]);
  });

  test("a lone `<thi` at the end is text", () => {
    expect(stream(["<thi"])).toEqual({ text: "<thi", kinds: ["text"] });
  });
});
