// The admin dashboard at /internal/ui/: its access policy and security headers over HTTP, then the page
// itself in a real browser (Debian Chromium driven by playwright-core) against a fake fleet, including an
// endpoint going down while the page is open.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { type FakeUpstream, startFakeUpstream, withTimeout } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

const CHROMIUM = process.env.OLLA_TEST_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(tmpdir(), "olla-dashboard-test");
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

describe("over HTTP", () => {
  let fake: FakeUpstream;
  const started: TestOlla[] = [];
  const olla = async (extra = "") => {
    const instance = await startTestOlla(
      endpointsYaml([{ name: "ollama-box", url: fake.url, type: "ollama" }]) + extra,
    );
    started.push(instance);
    return instance;
  };

  beforeAll(async () => {
    fake = await startFakeUpstream({ kind: "ollama" });
  });
  afterAll(async () => {
    for (const instance of started) await instance.stop();
    await fake.stop();
  });

  test("the page, with its security headers, at /internal/ui/ and every path under it", async () => {
    const { url } = await olla();
    for (const path of ["/internal/ui/", "/internal/ui/models/deep/link"]) {
      const response = await fetch(url + path);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("content-security-policy")).toBe(CSP);
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      const body = await response.text();
      expect(body).toStartWith("<!doctype html>");
      expect(body).toContain('data-testid="endpoints"');
      // Self-contained: nothing loaded from elsewhere, nothing written as HTML from data.
      expect(body).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org)/);
      expect(body).not.toMatch(/\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write|eval\(/);
    }
  });

  test("/internal/ui redirects to /internal/ui/ with 308", async () => {
    const { url } = await olla();
    const response = await fetch(`${url}/internal/ui`, { redirect: "manual" });
    expect(response.status).toBe(308);
    expect(response.headers.get("location")).toBe("/internal/ui/");
  });

  test("Host: an IP literal or an allowed name passes, any other name gets 403 (DNS rebinding)", async () => {
    const { url } = await olla();
    const port = new URL(url).port;
    const withHost = (host: string) => fetch(`${url}/internal/ui/`, { headers: { host } });
    for (const host of [`127.0.0.1:${port}`, `[::1]:${port}`, `localhost:${port}`, "LOCALHOST"]) {
      expect({ host, status: (await withHost(host)).status }).toEqual({ host, status: 200 });
    }
    const refused = await withHost("evil.example");
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("host name not in allowed_hosts");
    expect((await withHost(`evil.example:${port}`)).status).toBe(403);
  });

  test("a client outside allowed_cidrs gets 403", async () => {
    const { url } = await olla('dashboard:\n  access_policy:\n    allowed_cidrs: ["10.0.0.0/8"]\n');
    const response = await fetch(`${url}/internal/ui/`);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("client address not in allowed_cidrs");
  });

  test("dashboard.enabled: false → 404", async () => {
    const { url } = await olla("dashboard:\n  enabled: false\n");
    expect((await fetch(`${url}/internal/ui/`)).status).toBe(404);
    expect((await fetch(`${url}/internal/ui`, { redirect: "manual" })).status).toBe(404);
  });
});

describe("in a browser", () => {
  const HOSTILE = '<img src=x onerror="window.__pwned=1">';
  let ollamaA: FakeUpstream;
  let ollamaB: FakeUpstream;
  let vllm: FakeUpstream;
  let olla: TestOlla;
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: the dashboard browser test needs it ` +
          "(apt-get install chromium; .ci/run installs it), or set OLLA_TEST_CHROMIUM to another binary",
      );
    }
    ollamaA = await startFakeUpstream({
      kind: "ollama",
      models: [{ id: "llama3.2:latest" }, { id: "qwen3:4b", loaded: false }],
    });
    ollamaB = await startFakeUpstream({ kind: "ollama", models: ["llama3.2:latest", HOSTILE] });
    vllm = await startFakeUpstream({ kind: "vllm" });
    olla = await startTestOlla(
      endpointsYaml([
        { name: "ollama-a", url: ollamaA.url, type: "ollama", priority: 100 },
        { name: "ollama-b", url: ollamaB.url, type: "ollama" },
        { name: "vllm-box", url: vllm.url, type: "vllm" },
      ]),
    );
    browser = await withTimeout(
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
        timeout: 20_000,
      }),
      25_000,
      "launching Chromium",
    );
    // A fresh context: its own empty profile, so nothing cached from another run.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning")
        problems.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  }, 40_000); // a cold Chromium start on a busy CI machine takes a while

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await olla?.stop();
    for (const fake of [ollamaA, ollamaB, vllm]) await fake?.stop();
  }, 15_000);

  const row = (name: string) =>
    page.locator(`[data-testid="endpoint-row"][data-endpoint=${JSON.stringify(name)}]`);
  const model = (id: string) => page.locator(`[data-testid="model-row"][data-model=${JSON.stringify(id)}]`);
  const shot = async (name: string) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, name);
    await page.screenshot({ path, fullPage: true });
    console.log(`dashboard screenshot: ${path}`);
  };
  const chat = async (path: string, model: string) => {
    const response = await fetch(`${olla.url}/olla${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, stream: false, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(200);
    await response.text();
  };

  test("shows the fleet healthy, the models and where they live, with no console errors", async () => {
    await chat("/api/chat", "llama3.2:latest");
    await chat("/v1/chat/completions", "meta-llama/Llama-3.2-3B-Instruct");
    await page.goto(`${olla.url}/internal/ui/?refresh=1`);

    for (const name of ["ollama-a", "ollama-b", "vllm-box"]) {
      await row(name).and(page.locator('[data-state="healthy"]')).waitFor();
      await expect(row(name).textContent()).resolves.toContain("healthy");
    }
    expect(await page.getByTestId("endpoints-up").textContent()).toBe("3/3");
    expect(await page.getByTestId("version").textContent()).toMatch(/^v\d+\.\d+\.\d+/);
    expect(await page.getByTestId("system-status").textContent()).toBe("fleet healthy");

    // One model on two endpoints is one row with two places; loaded state per place.
    const llama = model("llama3.2:latest").getByTestId("model-location");
    await expect(
      llama.evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-endpoint")).sort()),
    ).resolves.toEqual(["ollama-a", "ollama-b"]);
    expect(await llama.first().getAttribute("data-model-state")).toBe("loaded");
    const qwen = model("qwen3:4b").getByTestId("model-location");
    expect(await qwen.getAttribute("data-endpoint")).toBe("ollama-a");
    expect(await qwen.getAttribute("data-model-state")).toBe("not-loaded");
    expect(
      await model("meta-llama/Llama-3.2-3B-Instruct")
        .getByTestId("model-location")
        .getAttribute("data-endpoint"),
    ).toBe("vllm-box");

    // A model name that is markup shows as text and runs nothing.
    expect(await model(HOSTILE).locator("strong").textContent()).toBe(HOSTILE);
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();

    // Counters from the requests sent before the page opened.
    expect(Number(await row("vllm-box").locator("td").nth(5).textContent())).toBeGreaterThanOrEqual(1);
    expect(problems).toEqual([]);
  }, 30_000);

  test("request and token rates follow the traffic, with a sparkline", async () => {
    const rate = async (id: string) => Number(await page.getByTestId(id).textContent());
    // Keep traffic flowing until two polls have seen it, so the sparkline has two points.
    const deadline = performance.now() + 10_000;
    while (
      (await page.locator("#request-spark polyline").count()) === 0 ||
      !((await rate("token-rate")) > 0)
    ) {
      if (performance.now() > deadline) throw new Error("rates never showed the traffic within 10 s");
      await chat("/api/chat", "llama3.2:latest");
      await Bun.sleep(100);
    }
    expect(await rate("request-rate")).toBeGreaterThan(0);
    expect(await rate("token-rate")).toBeGreaterThan(0);
    expect(await page.locator("#token-spark polyline").count()).toBe(1);
    await shot("dashboard.png");
    expect(problems).toEqual([]);
  }, 30_000);

  test("an endpoint that goes down is shown down within seconds", async () => {
    const stoppedAt = performance.now();
    await vllm.stop();
    await row("vllm-box").and(page.locator('[data-state="offline"]')).waitFor({ timeout: 10_000 });
    console.log(`vllm-box shown offline ${Math.round(performance.now() - stoppedAt)} ms after it stopped`);
    expect(await row("vllm-box").textContent()).toContain("offline");
    await expect(page.getByTestId("endpoints-up").textContent()).resolves.toBe("2/3");
    // Its model is still listed, marked as living on an endpoint that is down.
    const place = model("meta-llama/Llama-3.2-3B-Instruct").getByTestId("model-location");
    await place.and(page.locator('[data-endpoint-state="offline"]')).waitFor({ timeout: 5_000 });
    expect(await place.textContent()).toContain("endpoint offline");
    expect(await row("ollama-a").getAttribute("data-state")).toBe("healthy");
    await shot("dashboard-endpoint-down.png");
    expect(problems).toEqual([]);
  }, 30_000);

  test("a failing API marks the data stale with a banner, and it recovers", async () => {
    await page.route("**/internal/stats/endpoints", (route) => route.fulfill({ status: 500, body: "boom" }));
    const banner = page.getByTestId("error-banner");
    await banner.waitFor({ state: "visible", timeout: 5_000 });
    expect(await banner.textContent()).toContain("/internal/stats/endpoints: HTTP 500");
    expect(await page.locator("body").getAttribute("data-stale")).toBe("true");
    // What was shown stays shown.
    expect(await row("ollama-a").count()).toBe(1);
    await page.unroute("**/internal/stats/endpoints");
    await banner.waitFor({ state: "hidden", timeout: 5_000 });
    expect(await page.locator("body").getAttribute("data-stale")).toBe("false");
    // The only errors the page logged are the browser's own lines for the refused fetches.
    expect(problems.filter((line) => !line.includes("status of 500"))).toEqual([]);
  }, 30_000);
});
