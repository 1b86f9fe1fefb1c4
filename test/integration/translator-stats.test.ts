// GET /internal/stats/translators: every /olla/anthropic/v1/messages request counted once when it is
// over, by outcome, mode, streaming and fallback reason, driven by the official @anthropic-ai/sdk
// against a translated (sglang) and a native (vllm, here unable to use tools) endpoint.

import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TranslatorStatsJson } from "../../src/stats/translator-stats.ts";
import { PROFILES } from "../../src/profiles/index.ts";
import { type FakeUpstream, readSse, startFakeUpstream, until } from "../support/index.ts";
import { anthropicClient, postJson } from "../support/anthropic-client.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

let translated: FakeUpstream;
let native: FakeUpstream;
let olla: TestOlla;
let client: Anthropic;

// vLLM's profile with a limitation, as a profiles folder could declare it: tool requests are translated.
const profiles = PROFILES.map((profile) =>
  profile.name === "vllm" && profile.anthropic
    ? { ...profile, anthropic: { ...profile.anthropic, limitations: ["no_tool_use"] } }
    : profile,
);

const RATE_LIMITS_OFF = `server:\n  rate_limits:\n    per_ip_requests_per_minute: 0\n`;

const fleet = () =>
  endpointsYaml([
    { name: "sglang-box", url: translated.url, type: "sglang" },
    { name: "vllm-box", url: native.url, type: "vllm" },
  ]);

async function stats(target: TestOlla): Promise<TranslatorStatsJson> {
  const response = await fetch(`${target.url}/internal/stats/translators`);
  expect(response.status).toBe(200);
  return (await response.json()) as TranslatorStatsJson;
}

const post = (target: TestOlla, body: unknown, path = "/olla/anthropic/v1/messages") =>
  postJson(`${target.url}${path}`, body);

const hi = [{ role: "user" as const, content: "hi" }];

beforeAll(async () => {
  translated = await startFakeUpstream({
    kind: "sglang",
    chunks: 4,
    chunkDelayMs: 5,
    models: ["qwen-openai"],
  });
  native = await startFakeUpstream({ kind: "vllm", chunks: 4, chunkDelayMs: 5, models: ["qwen-native"] });
  olla = await startTestOlla(RATE_LIMITS_OFF + fleet(), {}, profiles);
  client = anthropicClient(olla.url);
});
afterAll(async () => {
  await olla.stop();
  await translated.stop();
  await native.stop();
});

/** The summary of translators that saw no request. */
const NO_TRAFFIC = {
  active_translators: 0,
  total_requests: 0,
  overall_success_rate: 0,
  total_passthrough: 0,
  total_translations: 0,
  overall_passthrough_rate: 0,
  total_streaming: 0,
  total_non_streaming: 0,
};

describe("/internal/stats/translators", () => {
  test("before any traffic: anthropic is listed with zeros, the summary counts it as inactive", async () => {
    const body = await stats(olla);
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
    expect(body.translators).toEqual([
      {
        translator_name: "anthropic",
        total_requests: 0,
        successful_requests: 0,
        failed_requests: 0,
        success_rate: 0,
        passthrough_rate: 0,
        passthrough_requests: 0,
        translation_requests: 0,
        streaming_requests: 0,
        non_streaming_requests: 0,
        fallback_no_compatible_endpoints: 0,
        fallback_translator_does_not_support_passthrough: 0,
        fallback_cannot_passthrough: 0,
        average_latency: 0,
      },
    ]);
    expect(body.summary).toEqual({ ...NO_TRAFFIC, total_translators: 1 });
  });

  test("passthrough and translation, streamed and not, failures of each kind: every counter", async () => {
    // 1-2. Passthrough to the native endpoint, whole and streamed.
    const whole = await client.messages
      .create({ model: "qwen-native", max_tokens: 20, messages: hi })
      .withResponse();
    expect(whole.response.headers.get("x-olla-mode")).toBe("passthrough");
    await client.messages.stream({ model: "qwen-native", max_tokens: 20, messages: hi }).finalMessage();

    // 3-4. Translation for the OpenAI-only endpoint (it does not speak Anthropic), whole and streamed.
    const translatedWhole = await client.messages
      .create({ model: "qwen-openai", max_tokens: 20, messages: hi })
      .withResponse();
    expect(translatedWhole.response.headers.get("x-olla-mode")).toBe("translation");
    await client.messages.stream({ model: "qwen-openai", max_tokens: 20, messages: hi }).finalMessage();

    // 5. Tools on the native endpoint whose profile cannot use them: translated (cannot_passthrough).
    const withTools = await client.messages
      .create({
        model: "qwen-native",
        max_tokens: 20,
        messages: hi,
        tools: [{ name: "get_weather", input_schema: { type: "object", properties: {} } }],
      })
      .withResponse();
    expect(withTools.response.headers.get("x-olla-mode")).toBe("translation");
    expect(withTools.response.headers.get("x-olla-endpoint")).toBe("vllm-box");

    // 6. An unknown model: 404, no endpoint could take it.
    const unknown = await client.messages
      .create({ model: "no-such-model", max_tokens: 5, messages: hi })
      .catch((caught: unknown) => caught);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);

    // 7. The endpoint answers with an error.
    translated.set({ fail: { status: 500, message: "CUDA out of memory" } });
    try {
      const failed = await client.messages
        .create({ model: "qwen-openai", max_tokens: 5, messages: hi })
        .catch((caught: unknown) => caught);
      expect(failed).toBeInstanceOf(Anthropic.InternalServerError);
    } finally {
      translated.set({ fail: null });
    }

    // 8. A passthrough stream the endpoint cuts mid-way: 200 at first, failed in the end.
    native.set({ dieMidStream: 2 });
    try {
      const response = await post(olla, { model: "qwen-native", max_tokens: 20, stream: true, messages: hi });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-olla-mode")).toBe("passthrough");
      const { events } = await readSse(response, { allowError: true });
      expect(events.at(-1)!.event).toBe("error");
    } finally {
      native.set({ dieMidStream: null });
    }

    // 9. An invalid streamed request (no max_tokens): 400 before any endpoint, no fallback reason.
    const invalid = await post(olla, { model: "qwen-openai", stream: true, messages: hi });
    expect(invalid.status).toBe(400);
    await invalid.arrayBuffer();

    // 10. A client that leaves a translated stream mid-way.
    translated.set({ chunks: 200, chunkDelayMs: 20 });
    const cancelledBefore = translated.counters.streamsCancelled;
    try {
      const controller = new AbortController();
      const stream = client.messages.stream(
        { model: "qwen-openai", max_tokens: 500, messages: hi },
        { signal: controller.signal },
      );
      await new Promise<void>((resolve) => stream.on("text", () => resolve()));
      controller.abort();
      await stream.finalMessage().catch(() => {});
      await until(
        () => translated.counters.streamsCancelled > cancelledBefore,
        3_000,
        "the endpoint's stream to be cancelled",
      );
    } finally {
      translated.set({ chunks: 4, chunkDelayMs: 5 });
    }

    // Not counted: count_tokens (Olla counts messages only), and Anthropic's API on the plain proxy.
    const counted = await post(
      olla,
      { model: "qwen-openai", messages: hi },
      "/olla/anthropic/v1/messages/count_tokens",
    );
    expect(counted.status).toBe(200);
    await counted.arrayBuffer();
    const proxied = await post(
      olla,
      { model: "qwen-native", max_tokens: 5, messages: hi },
      "/olla/vllm/v1/messages",
    );
    expect(proxied.status).toBe(200);
    await proxied.arrayBuffer();

    let body = await stats(olla);
    await until(
      async () => (body = await stats(olla)).translators[0]!.total_requests >= 10,
      3_000,
      "ten requests counted",
    );
    // A moment more: nothing else may arrive (count_tokens and the proxied request stay out).
    await Bun.sleep(50);
    body = await stats(olla);
    const anthropic = body.translators[0]!;
    expect(body.translators.length).toBe(1);
    const { average_latency, ...counters } = anthropic;
    expect(counters).toEqual({
      translator_name: "anthropic",
      total_requests: 10,
      successful_requests: 5, // 1-5
      failed_requests: 5, // 6-10
      success_rate: 50,
      passthrough_rate: 30,
      passthrough_requests: 3, // 1, 2, 8
      translation_requests: 7, // 3-7, 9, 10
      streaming_requests: 5, // 2, 4, 8, 9, 10
      non_streaming_requests: 5, // 1, 3, 5, 6, 7
      fallback_no_compatible_endpoints: 5, // 3, 4, 6, 7, 10
      fallback_translator_does_not_support_passthrough: 0,
      fallback_cannot_passthrough: 1, // 5
    });
    // Milliseconds over the successful requests: each took some, none took seconds.
    expect(typeof average_latency).toBe("number");
    expect(average_latency).toBeGreaterThan(0);
    expect(average_latency).toBeLessThan(5_000);
    expect(body.summary).toEqual({
      total_translators: 1,
      active_translators: 1,
      total_requests: 10,
      overall_success_rate: 50,
      total_passthrough: 3,
      total_translations: 7,
      overall_passthrough_rate: 30,
      total_streaming: 5,
      total_non_streaming: 5,
    });
  });

  test("passthrough_enabled: false: a native endpoint's request is translated for that reason", async () => {
    const strict = await startTestOlla(
      RATE_LIMITS_OFF + `translators:\n  anthropic:\n    passthrough_enabled: false\n` + fleet(),
    );
    try {
      const response = await post(strict, { model: "qwen-native", max_tokens: 5, messages: hi });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-olla-mode")).toBe("translation");
      await response.arrayBuffer();
      let body = await stats(strict);
      await until(
        async () => (body = await stats(strict)).summary.total_requests === 1,
        3_000,
        "one request",
      );
      expect(body.translators[0]).toMatchObject({
        total_requests: 1,
        successful_requests: 1,
        success_rate: 100,
        passthrough_rate: 0,
        translation_requests: 1,
        non_streaming_requests: 1,
        fallback_translator_does_not_support_passthrough: 1,
        fallback_no_compatible_endpoints: 0,
        fallback_cannot_passthrough: 0,
      });
    } finally {
      await strict.stop();
    }
  });

  test("translators.anthropic.enabled: false: no translators, a zeroed summary", async () => {
    const off = await startTestOlla(
      RATE_LIMITS_OFF + `translators:\n  anthropic:\n    enabled: false\n` + fleet(),
    );
    try {
      const response = await post(off, { model: "qwen-native", max_tokens: 5, messages: hi });
      await response.arrayBuffer();
      const body = await stats(off);
      expect(body.translators).toEqual([]);
      expect(body.summary).toEqual({ ...NO_TRAFFIC, total_translators: 0 });
    } finally {
      await off.stop();
    }
  });
});
