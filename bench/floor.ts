// The bench's reference floor: the least a proxy built the way olla is can cost on this machine.
// Bun.serve plus olla's own pooled upstream client, forwarding /olla/<type>/<path> to the configured
// endpoint of that type, and nothing else: no routing, header rules, body inspection, failover,
// timeouts, statistics or logs. The bench runs it beside olla (engine "floor"), so each figure shows
// how much of olla's cost is olla's own work and how much is Bun, the extra hop and this machine.
// Usage: bun bench/floor.ts -c <olla config>  (reads only server.host and the static endpoints).

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { createPooledClient } from "../src/proxy/upstream/index.ts";
import type { HeaderPairs } from "../src/proxy/upstream/index.ts";

interface FloorConfig {
  server?: { host?: string };
  discovery: { static: { endpoints: { url: string; type: string }[] } };
}

const { values } = parseArgs({ options: { config: { type: "string", short: "c" } } });
if (!values.config) throw new Error("usage: bun bench/floor.ts -c <config.yaml>");
const config = parse(readFileSync(values.config, "utf8")) as FloorConfig;

// Route prefix -> endpoint origin; "openai" is the prefix of the openai-compatible type, as in olla. Written
// out rather than read from olla's profiles: loading them is start-up cost of olla's that the floor must not carry.
const origins = new Map<string, URL>();
for (const endpoint of config.discovery.static.endpoints) {
  const prefix = endpoint.type === "openai-compatible" ? "openai" : endpoint.type;
  if (!origins.has(prefix)) origins.set(prefix, new URL(endpoint.url));
}

const client = createPooledClient({ maxConnsPerHost: 0, maxIdleConns: 1024 });
const notFound = () => new Response('{"error":"no endpoint for this path"}', { status: 404 });

const server = Bun.serve({
  hostname: config.server?.host ?? "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  async fetch(request, bun) {
    // Streams may be quiet for longer than Bun's default idle cut, as in olla.
    bun.timeout(request, 0);
    const url = new URL(request.url);
    const match = /^\/olla\/([^/]+)(\/.*)$/.exec(url.pathname);
    const origin = match ? origins.get(match[1]!) : undefined;
    if (!match || origin === undefined) return notFound();
    // The pooled client drops Host and framing headers itself and sets its own.
    const headers: HeaderPairs = [];
    for (const pair of request.headers) headers.push(pair);
    const body = request.body ? await request.bytes() : null;
    return client.request({
      url: origin,
      path: `${match[2]}${url.search}`,
      method: request.method,
      headers,
      body,
      signal: request.signal,
    });
  },
});

// The line the bench waits for, in olla's own format.
console.log(JSON.stringify({ level: "info", msg: "olla started", listen: server.url.href }));
process.on("SIGTERM", () => {
  client.close();
  void server.stop(true).then(() => process.exit(0));
});
