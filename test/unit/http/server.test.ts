// The server's way out for every answer, whichever way the route gives it (at once, later, or by
// throwing) and whether the guard answers at once or after a wait (a shared Redis store): the request
// id, the guard's headers, and a finished record. A 500 from Bun's own error handler would carry none
// of these, so each case shows the server's path, not Bun's fallback.

import { afterAll, expect, test } from "bun:test";
import { createRouter, type Guard, startHttpServer } from "../../../src/http/index.ts";
import type { RequestRecord, RouteContext } from "../../../src/http/router.ts";
import { createLogger } from "../../../src/log/index.ts";

const logged: string[] = [];
const logger = createLogger({ level: "error", format: "json", write: (line) => logged.push(line) });
const ended: RequestRecord[] = [];

/** The rate-limit headers a guard adds; after a wait for paths under /later/. */
const guard: Guard = (_request, context) => {
  const verdict = { headers: { "x-ratelimit-remaining": "9" } };
  return context.record.path.startsWith("/later/") ? Bun.sleep(5).then(() => verdict) : verdict;
};

const routes = ["/now/", "/later/"].flatMap((prefix) => [
  { methods: ["GET"], path: `${prefix}sync`, handler: () => new Response("sync") },
  {
    methods: ["GET"],
    path: `${prefix}async`,
    handler: async () => {
      await Bun.sleep(5);
      return new Response("async");
    },
  },
  {
    // The proxy's way: the context's own promise, settled by answer() (the server adds no reaction).
    methods: ["GET"],
    path: `${prefix}context`,
    handler: (_request: Request, context: RouteContext) => {
      const answer = context.later();
      setTimeout(() => context.answer(new Response("context")), 5);
      return answer;
    },
  },
  {
    methods: ["GET"],
    path: `${prefix}context-fails`,
    handler: (_request: Request, context: RouteContext) => {
      const answer = context.later();
      setTimeout(() => context.fail(new Error("route broke through its context")), 5);
      return answer;
    },
  },
  {
    methods: ["GET"],
    path: `${prefix}throws`,
    handler: (): Response => {
      throw new Error("route broke at once");
    },
  },
  {
    methods: ["GET"],
    path: `${prefix}rejects`,
    handler: async (): Promise<Response> => {
      await Bun.sleep(5);
      throw new Error("route broke later");
    },
  },
]);

const server = startHttpServer({
  host: "127.0.0.1",
  port: 0,
  idleTimeoutSeconds: 30,
  maxRequestBodySize: 1024,
  logger,
  guard,
  router: createRouter(routes),
  onRequestEnd: (record) => ended.push(record),
});
afterAll(() => server.stop(1000));

async function get(path: string) {
  const response = await fetch(new URL(path, server.url), {
    headers: { "x-request-id": `id-${path.replaceAll("/", "-")}` },
  });
  // The record is finished in a microtask after the answer: give it a turn.
  await Bun.sleep(5);
  return { response, text: await response.text(), record: ended.find((r) => r.path === path) };
}

for (const guardWhen of ["now", "later"]) {
  for (const route of ["sync", "async", "context"]) {
    test(`guard ${guardWhen}, route answers ${route}: id, guard headers, finished record`, async () => {
      const path = `/${guardWhen}/${route}`;
      const { response, text, record } = await get(path);
      expect(response.status).toBe(200);
      expect(text).toBe(route);
      expect(response.headers.get("x-olla-request-id")).toBe(`id-${path.replaceAll("/", "-")}`);
      expect(response.headers.get("x-ratelimit-remaining")).toBe("9");
      expect(record?.status).toBe(200);
      // Completed once: the record ends once.
      expect(ended.filter((r) => r.path === path)).toHaveLength(1);
    });
  }
  for (const route of ["throws", "rejects", "context-fails"]) {
    test(`guard ${guardWhen}, route ${route}: a JSON 500 from olla, logged, record finished`, async () => {
      const path = `/${guardWhen}/${route}`;
      const { response, text, record } = await get(path);
      expect(response.status).toBe(500);
      expect(JSON.parse(text).error.code).toBe("internal_error");
      expect(response.headers.get("x-olla-request-id")).toBe(`id-${path.replaceAll("/", "-")}`);
      expect(response.headers.get("x-ratelimit-remaining")).toBe("9");
      expect(record?.status).toBe(500);
      const message = {
        throws: "route broke at once",
        rejects: "route broke later",
        "context-fails": "route broke through its context",
      }[route]!;
      expect(logged.some((line) => line.includes("request failed") && line.includes(message))).toBe(true);
    });
  }
}
