// Sticky-session keys: FNV-1a 64, each source, the cascade's order, model scoping, the prefix limit.

import { describe, expect, test } from "bun:test";
import { inspectBody } from "../../../src/proxy/inspect.ts";
import { Fnv64 } from "../../../src/routing/fnv64.ts";
import {
  type KeyMaterial,
  type KeySource,
  keySourceOf,
  stickyKeys,
} from "../../../src/routing/sticky-key.ts";

const encode = (text: string) => new TextEncoder().encode(text);

describe("FNV-1a 64", () => {
  // Published test vectors (the FNV reference's test suite).
  test.each([
    ["", "cbf29ce484222325"],
    ["a", "af63dc4c8601ec8c"],
    ["foobar", "85944171f73967e8"],
  ])("%p", (text, hex) => {
    expect(new Fnv64().bytes(encode(text)).hex()).toBe(hex);
    expect(new Fnv64().text(text).hex()).toBe(hex);
  });

  test("matches a BigInt reference on random bytes, and a range hashes like its copy", () => {
    const reference = (bytes: Uint8Array) => {
      let hash = 0xcbf29ce484222325n;
      for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
      return hash.toString(16).padStart(16, "0");
    };
    const hash = new Fnv64();
    for (let length = 0; length < 300; length += 7) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      expect(hash.reset().bytes(bytes).hex()).toBe(reference(bytes));
      expect(
        hash
          .reset()
          .bytes(bytes, 3, length - 2)
          .hex(),
      ).toBe(reference(bytes.slice(3, length - 2)));
    }
  });
});

/** A request's key material from a JSON body and headers, with the body inspected as the proxy does. */
function material(
  body: unknown,
  headers: Record<string, string> = {},
  /** null: no client IP (a default parameter would turn undefined into the default). */
  clientIp: string | null = "10.0.0.7",
): KeyMaterial {
  const bytes = body === undefined ? null : encode(JSON.stringify(body));
  const facts = inspectBody(bytes, "application/json", true);
  return {
    model: facts.model ?? "",
    headers: new Headers(headers),
    clientIp: clientIp ?? undefined,
    body: bytes,
    conversationStart: facts.conversationStart,
    conversationEnd: facts.conversationEnd,
  };
}

const ALL: KeySource[] = ["session_header", "prefix_hash", "auth_header", "ip"];
const chat = (model: string, ...contents: string[]) => ({
  model,
  messages: contents.map((content) => ({ role: "user", content })),
});

describe("each source", () => {
  const only = (source: KeySource) => stickyKeys([source], 512);

  test("session_header: X-Olla-Session-ID, hashed", () => {
    const keys = only("session_header");
    const key = keys.keyOf(material(chat("m", "hi"), { "x-olla-session-id": "conversation-1" }))!;
    expect(keySourceOf(key)).toBe("session_header");
    expect(key).not.toContain("conversation-1");
    expect(keys.keyOf(material(chat("m", "other"), { "x-olla-session-id": "conversation-1" }))).toBe(key);
    expect(keys.keyOf(material(chat("m", "hi"), { "x-olla-session-id": "conversation-2" }))).not.toBe(key);
    expect(keys.keyOf(material(chat("m", "hi")))).toBeUndefined();
    expect(keys.keyOf(material(chat("m", "hi"), { "x-olla-session-id": "" }))).toBeUndefined();
  });

  test("auth_header: the Authorization value, never stored as is", () => {
    const keys = only("auth_header");
    const token = "Bearer sk-secret-123";
    const key = keys.keyOf(material(chat("m", "hi"), { authorization: token }))!;
    expect(keySourceOf(key)).toBe("auth_header");
    expect(key).not.toContain("sk-secret");
    expect(keys.keyOf(material(chat("m", "bye"), { authorization: token }))).toBe(key);
    expect(keys.keyOf(material(chat("m", "hi"), { authorization: "Bearer other" }))).not.toBe(key);
    expect(keys.keyOf(material(chat("m", "hi")))).toBeUndefined();
  });

  test("ip: the client IP olla computed", () => {
    const keys = only("ip");
    const key = keys.keyOf(material(chat("m", "hi"), {}, "192.168.1.20"))!;
    expect(keySourceOf(key)).toBe("ip");
    expect(keys.keyOf(material(chat("m", "other"), {}, "192.168.1.20"))).toBe(key);
    expect(keys.keyOf(material(chat("m", "hi"), {}, "192.168.1.21"))).not.toBe(key);
    expect(keys.keyOf(material(chat("m", "hi"), {}, null))).toBeUndefined();
  });

  test("prefix_hash: the messages array's first bytes, wherever it stands in the body", () => {
    const keys = only("prefix_hash");
    const key = keys.keyOf(material(chat("m", "You are helpful.", "hi")))!;
    expect(keySourceOf(key)).toBe("prefix_hash");
    // The same messages after other keys (and the model after them): the same key.
    const later = { temperature: 0.2, tools: [{ type: "function" }], ...chat("m", "You are helpful.", "hi") };
    expect(keys.keyOf(material(later))).toBe(key);
    expect(keys.keyOf(material(chat("m", "You are terse.", "hi")))).not.toBe(key);
  });

  test("prefix_hash: the prompt when there are no messages, or only an empty list", () => {
    const keys = only("prefix_hash");
    const key = keys.keyOf(material({ model: "m", prompt: "Once upon a time" }))!;
    expect(keySourceOf(key)).toBe("prefix_hash");
    expect(keys.keyOf(material({ model: "m", messages: [], prompt: "Once upon a time" }))).toBe(key);
    expect(keys.keyOf(material({ prompt: "Once upon a time", model: "m", messages: [] }))).toBe(key);
    // Messages win over a prompt, whichever comes first.
    const both = keys.keyOf(material({ prompt: "x", ...chat("m", "hi") }));
    expect(both).toBe(keys.keyOf(material(chat("m", "hi")))!);
    expect(keys.keyOf(material({ model: "m", input: "embed me" }))).toBeUndefined();
    expect(keys.keyOf(material(undefined))).toBeUndefined();
  });

  test("prefix_hash: only the first prefix_hash_bytes bytes count", () => {
    const system = "s".repeat(600);
    const short = stickyKeys(["prefix_hash"], 64);
    const long = stickyKeys(["prefix_hash"], 4096);
    const first = material(chat("m", system, "first question"));
    const second = material(chat("m", system, "second question", "and more"));
    // Both bodies agree on far more than 64 bytes of messages, and differ within 4096.
    expect(short.keyOf(second)).toBe(short.keyOf(first)!);
    expect(long.keyOf(second)).not.toBe(long.keyOf(first)!);
    // A change inside the first 64 bytes makes another key.
    expect(short.keyOf(material(chat("m", `t${system}`, "first question")))).not.toBe(short.keyOf(first)!);
  });

  test("prefix_hash: a body still arriving is hashed from its chunks", () => {
    const keys = stickyKeys(["prefix_hash"], 100);
    const whole = material(chat("m", "a".repeat(80), "b".repeat(80)));
    const bytes = whole.body as Uint8Array;
    const chunks = [bytes.subarray(0, 7), bytes.subarray(7, 50), bytes.subarray(50, 51), bytes.subarray(51)];
    expect(keys.keyOf({ ...whole, body: chunks })).toBe(keys.keyOf(whole)!);
  });
});

describe("the cascade", () => {
  const keys = stickyKeys(ALL, 512);
  const headers = { "x-olla-session-id": "s-1", authorization: "Bearer t" };

  test("the first source that gives a key wins, in the configured order", () => {
    expect(keySourceOf(keys.keyOf(material(chat("m", "hi"), headers))!)).toBe("session_header");
    expect(keySourceOf(keys.keyOf(material(chat("m", "hi"), { authorization: "Bearer t" }))!)).toBe(
      "prefix_hash",
    );
    expect(keySourceOf(keys.keyOf(material({ model: "m" }, { authorization: "Bearer t" }))!)).toBe(
      "auth_header",
    );
    expect(keySourceOf(keys.keyOf(material({ model: "m" }))!)).toBe("ip");
    expect(keys.keyOf(material({ model: "m" }, {}, null))).toBeUndefined();
    const reversed = stickyKeys(["ip", "auth_header", "prefix_hash", "session_header"], 512);
    expect(keySourceOf(reversed.keyOf(material(chat("m", "hi"), headers))!)).toBe("ip");
  });

  test("sources left out are never used", () => {
    const sessionOnly = stickyKeys(["session_header"], 512);
    expect(sessionOnly.keyOf(material(chat("m", "hi"), { authorization: "Bearer t" }))).toBeUndefined();
  });

  test("the same value sent by another source makes another key", () => {
    const bySession = keys.keyOf(material({ model: "m" }, { "x-olla-session-id": "10.0.0.7" }));
    const byIp = keys.keyOf(material({ model: "m" }, {}, "10.0.0.7"));
    expect(bySession).not.toBe(byIp!);
  });

  test("every key is scoped to the model", () => {
    for (const [body, extra] of [
      [chat("llama3.2", "hi"), headers],
      [chat("llama3.2", "hi"), {}],
      [{ model: "llama3.2" }, { authorization: "Bearer t" }],
      [{ model: "llama3.2" }, {}],
    ] as const) {
      const one = keys.keyOf(material(body, extra))!;
      const other = keys.keyOf(material({ ...body, model: "qwen3:8b" }, extra))!;
      expect(keySourceOf(one)).toBe(keySourceOf(other));
      expect(one).not.toBe(other);
    }
  });
});
