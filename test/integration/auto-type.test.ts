// `type: auto` endpoints settle on their real platform: status shows it and provider routes use it.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { type FakeUpstream, startFakeUpstream } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

let ollama: FakeUpstream;
let lmstudio: FakeUpstream;
let generic: FakeUpstream;
let olla: TestOlla;
const laterPort = { value: 0 };

beforeAll(async () => {
  ollama = await startFakeUpstream({ kind: "ollama" });
  lmstudio = await startFakeUpstream({ kind: "lmstudio" });
  generic = await startFakeUpstream({ kind: "openai" });
  // One node that is not up yet at start: it is detected once it answers.
  const later = await startFakeUpstream({ kind: "vllm" });
  laterPort.value = later.port;
  await later.stop();
  olla = await startTestOlla(
    endpointsYaml([
      { name: "a", url: ollama.url, type: "auto" },
      { name: "b", url: lmstudio.url, type: "auto" },
      { name: "c", url: generic.url, type: "auto" },
      { name: "d", url: `http://127.0.0.1:${laterPort.value}`, type: "auto" },
    ]),
  );
});
afterAll(async () => {
  await olla.stop();
  for (const server of [ollama, lmstudio, generic]) await server.stop();
});

test("each auto endpoint shows its detected platform and probes its health path", async () => {
  const status = (await (await fetch(`${olla.url}/internal/status/endpoints`)).json()) as {
    endpoints: { name: string; type: string; platform: string; status: string; health_check_url: string }[];
  };
  const byName = Object.fromEntries(status.endpoints.map((endpoint) => [endpoint.name, endpoint]));
  expect(byName.a).toMatchObject({ type: "auto", platform: "ollama", status: "healthy" });
  expect(byName.b).toMatchObject({ platform: "lm-studio", status: "healthy" });
  expect(byName.b!.health_check_url).toEndWith("/v1/models");
  expect(byName.c).toMatchObject({ platform: "openai-compatible", status: "healthy" });
  expect(byName.d).toMatchObject({ platform: "auto", status: "offline" });
});

test("provider routes follow the detected platform", async () => {
  const response = await fetch(`${olla.url}/olla/lmstudio/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "llama-3.2-3b-instruct", messages: [{ role: "user", content: "x" }] }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("x-olla-endpoint")).toBe("b");
});

test("a node that was down at start is detected when it comes up, and its provider route follows", async () => {
  const chat = () =>
    fetch(`${olla.url}/olla/vllm/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "meta-llama/Llama-3.2-3B-Instruct",
        messages: [{ role: "user", content: "x" }],
      }),
    });
  // No vLLM endpoint yet: the route's endpoint list is made (and kept) without d.
  expect((await chat()).status).toBe(404);
  const later = await startFakeUpstream({ kind: "vllm", port: laterPort.value });
  try {
    const endpoint = olla.app.endpoints.find((candidate) => candidate.name === "d")!;
    await olla.app.health.checkNow(endpoint);
    expect(endpoint.profile.name).toBe("vllm");
    expect(endpoint.status).toBe("healthy");
    expect(
      olla.logs.some((record) => record.msg === "endpoint type detected" && record.endpoint === "d"),
    ).toBe(true);
    // The detection changed d's platform: the kept list is made again.
    const response = await chat();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-olla-endpoint")).toBe("d");
  } finally {
    await later.stop();
  }
});
