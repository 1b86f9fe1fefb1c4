// The benchmark's inference servers, in a process of their own so they do not share olla's event
// loop: fake servers from test/support speaking the real wire formats. Prints their URLs as JSON.

import { startFakeUpstream } from "../test/support/index.ts";

const quiet = { logRequests: false } as const;
const servers = {
  /** Small non-streamed chat completions. */
  fast: await startFakeUpstream({ kind: "openai", chunks: 8, chunkDelayMs: 0, ...quiet }),
  /** 100 chunks 5 ms apart. */
  stream: await startFakeUpstream({ kind: "vllm", chunks: 100, chunkDelayMs: 5, ...quiet }),
  /** Slow streams held open by the thousand: 20 chunks 250 ms apart. */
  slow: await startFakeUpstream({ kind: "sglang", chunks: 20, chunkDelayMs: 250, ...quiet }),
  /** OpenAI streams with no native Anthropic API: what /olla/anthropic/ translates to. */
  translate: await startFakeUpstream({
    kind: "openai",
    chunks: 20,
    chunkDelayMs: 5,
    models: ["bench-translate"],
    ...quiet,
  }),
  /** Chat requests accepted and never answered: what a request waiting for its answer keeps. */
  waiting: await startFakeUpstream({ kind: "lmstudio", hang: ["/v1/chat/completions"], ...quiet }),
  /** Streams that send their first events and then stay quiet: what an open stream keeps. */
  open: await startFakeUpstream({
    kind: "vllm",
    chunks: 2,
    chunkDelayMs: 0,
    quietGap: { afterFrames: 1, ms: 600_000 },
    ...quiet,
  }),
  /** Large request bodies (embeddings of a 10 MB input). */
  embed: await startFakeUpstream({ kind: "llamacpp", ...quiet }),
};

console.log(
  JSON.stringify(Object.fromEntries(Object.entries(servers).map(([name, server]) => [name, server.url]))),
);

const stop = async () => {
  await Promise.all(Object.values(servers).map((server) => server.stop()));
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
