// Test support: fake inference servers that speak the real wire formats, and helpers to read streams
// and bound waits. Import from here, not from the files behind it.
export { collected } from "./collected.ts";
export { replyTokens } from "./fake-content.ts";
export { defaultModels } from "./fake-models.ts";
export { OLLAMA_VERSION } from "./fake-ollama.ts";
export type {
  FakeBehaviour,
  FakeBehaviourPatch,
  FakeCounters,
  FakeFailure,
  FakeKind,
  FakeModel,
  FakeRequest,
  FakeUpstream,
  FakeUpstreamOptions,
  QuietGap,
} from "./fake-types.ts";
export { defaultBehaviour, startFakeUpstream } from "./fake-upstream.ts";
export type { NdjsonObject, ReadOptions, SseEvent, StreamRead } from "./read-stream.ts";
export { readNdjson, readSse } from "./read-stream.ts";
export { until, withTimeout } from "./with-timeout.ts";
