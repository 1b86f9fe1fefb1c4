// Balancers against real servers: least_connections counts a stream until its last byte.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { type FakeUpstream, startFakeUpstream } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

let a: FakeUpstream;
let b: FakeUpstream;
let olla: TestOlla;
beforeAll(async () => {
  a = await startFakeUpstream({ kind: "ollama", chunks: 10, chunkDelayMs: 50 });
  b = await startFakeUpstream({ kind: "ollama", chunks: 10, chunkDelayMs: 50 });
  olla = await startTestOlla(
    `proxy:\n  load_balancer: least-connections\n${endpointsYaml([
      { name: "a", url: a.url, type: "ollama" },
      { name: "b", url: b.url, type: "ollama" },
    ])}`,
  );
});
afterAll(async () => {
  await olla.stop();
  await a.stop();
  await b.stop();
});

const stream = () =>
  fetch(`${olla.url}/olla/api/generate`, {
    method: "POST",
    body: JSON.stringify({ model: "llama3.2:latest", prompt: "x" }),
  });

test("concurrent slow streams spread evenly, and each counts until its last byte", async () => {
  // Open streams one at a time: each new one must go where fewer are running.
  const responses: Response[] = [];
  for (let i = 0; i < 6; i++) responses.push(await stream());
  const served = responses.map((response) => response.headers.get("x-olla-endpoint"));
  expect(served.filter((name) => name === "a")).toHaveLength(3);
  expect(served.filter((name) => name === "b")).toHaveLength(3);
  const [endpointA, endpointB] = olla.app.endpoints;
  expect(endpointA!.inFlight + endpointB!.inFlight).toBe(6);
  await Promise.all(responses.map((response) => response.text()));
  // A stream stops counting once its last byte is through.
  for (let i = 0; i < 50 && endpointA!.inFlight + endpointB!.inFlight > 0; i++) await Bun.sleep(10);
  expect([endpointA!.inFlight, endpointB!.inFlight]).toEqual([0, 0]);
});

test("a busier endpoint gets the next request", async () => {
  const held = [await stream(), await stream()];
  const first = held[0]!.headers.get("x-olla-endpoint");
  const second = held[1]!.headers.get("x-olla-endpoint");
  expect(first).not.toBe(second);
  // Finish one: the next request goes to the idle one.
  await held[0]!.text();
  await Bun.sleep(20);
  const next = await stream();
  expect(next.headers.get("x-olla-endpoint")).toBe(first);
  await Promise.all([held[1]!.text(), next.text()]);
});
