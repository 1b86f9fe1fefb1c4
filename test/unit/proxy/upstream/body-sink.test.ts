// The direct-stream body sink on its own: early reads copied, pause and resume around a slow consumer,
// clean end versus failure, and cancel reported once.

import { describe, expect, test } from "bun:test";
import { BodySink } from "../../../../src/proxy/upstream/body-sink.ts";
import { within } from "./raw-server.ts";

function hooks() {
  const calls: string[] = [];
  return {
    calls,
    pause: () => calls.push("pause"),
    resume: () => calls.push("resume"),
    cancel: () => calls.push("cancel"),
  };
}

/** A reader has taken the first byte; `fits` more bytes wait in the stream without pausing the upstream,
 * `overflows` more pause it until the reader catches up. */
async function pausesPastMark(mark: number, fits: number, overflows: number) {
  const h = hooks();
  const sink = new BodySink(mark, h);
  const reader = sink.stream.getReader();
  const pending = reader.read();
  await Bun.sleep(1);
  sink.write(Buffer.from("x"));
  sink.flush();
  expect(Buffer.from((await within(pending, 1000, "read")).value!).toString()).toBe("x");
  sink.write(Buffer.alloc(fits, 97));
  expect(h.calls).toEqual([]);
  sink.write(Buffer.alloc(overflows, 97));
  expect(h.calls).toEqual(["pause"]);
  sink.flush();
  await within(reader.read(), 1000, "drain read");
  await Bun.sleep(5);
  expect(h.calls).toEqual(["pause", "resume"]);
}

describe("body sink", () => {
  test("reads that arrive before the first pull are copied, not kept as views", async () => {
    const h = hooks();
    const sink = new BodySink(1024, h);
    const buf = Buffer.from("abc");
    sink.write(buf);
    buf.write("XYZ"); // the socket layer may reuse its buffer
    sink.flush();
    sink.end();
    expect(await within(new Response(sink.stream).text(), 1000, "body")).toBe("abc");
  });

  test("too many early bytes pause the upstream until the consumer pulls", async () => {
    const h = hooks();
    const sink = new BodySink(8, h);
    sink.write(Buffer.from("12345"));
    expect(h.calls).toEqual([]);
    sink.write(Buffer.from("67890"));
    expect(h.calls).toEqual(["pause"]);
    const reader = sink.stream.getReader();
    const first = await within(reader.read(), 1000, "first read");
    expect(Buffer.from(first.value!).toString()).toBe("1234567890");
    await Bun.sleep(5);
    expect(h.calls).toEqual(["pause", "resume"]);
  });

  test("a write beyond the buffer pauses; the consumer catching up resumes", async () => {
    await pausesPastMark(16, 8, 64);
  });

  test("at olla's default of 64 KiB (left to Bun as its own default) a reader's side waits past 64 KiB", async () => {
    await pausesPastMark(64 * 1024, 60 * 1024, 8 * 1024);
  });

  test("each flushed write reaches a waiting reader as its own read", async () => {
    const sink = new BodySink(1024, hooks());
    const reader = sink.stream.getReader();
    for (const word of ["one", "two", "three"]) {
      const pending = reader.read();
      await Bun.sleep(1);
      sink.write(Buffer.from(word));
      sink.flush();
      expect(Buffer.from((await within(pending, 1000, "read")).value!).toString()).toBe(word);
    }
    sink.end();
    expect((await within(reader.read(), 1000, "end")).done).toBe(true);
  });

  test("fail errors the consumer with that error, before or after the first pull", async () => {
    const early = new BodySink(1024, hooks());
    const err = new Error("upstream died");
    early.write(Buffer.from("partial"));
    early.fail(err);
    expect(early.finished).toBe(true);
    const { error } = await within(
      new Response(early.stream).text().then(
        () => ({ error: null }),
        (error: unknown) => ({ error }),
      ),
      1000,
      "failed body",
    );
    expect(error).toBe(err);

    const late = new BodySink(1024, hooks());
    const reader = late.stream.getReader();
    const pending = reader.read();
    await Bun.sleep(1);
    late.fail(err);
    await expect(within(pending, 1000, "failed read")).rejects.toBe(err);
  });

  test("cancel is reported once and later writes are ignored", async () => {
    const h = hooks();
    const sink = new BodySink(1024, h);
    const reader = sink.stream.getReader();
    const pending = reader.read();
    await Bun.sleep(1);
    sink.write(Buffer.from("a"));
    sink.flush();
    await pending;
    await reader.cancel("client left");
    sink.write(Buffer.from("b"));
    sink.end();
    expect(h.calls).toEqual(["cancel"]);
    expect(sink.finished).toBe(true);
  });
});
