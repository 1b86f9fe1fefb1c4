// PacedOutput over a real node:stream Writable whose writes complete only when the test lets them: the
// stream's own highWaterMark decides when write() says "full", as stdout's and a file's do.

import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { pacedOutput } from "../../../src/log/paced-output.ts";

/** A Writable that holds each write until release() (a reader that has stopped reading). */
function slowStream(highWaterMark: number) {
  const written: Uint8Array[] = [];
  const held: (() => void)[] = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk: Uint8Array, _encoding, done) {
      written.push(new Uint8Array(chunk));
      held.push(done);
    },
  });
  return {
    stream,
    written,
    /** Completes every held write, and the ones the stream starts meanwhile, as a reader catching up does. */
    async release() {
      for (let round = 0; round < 100 && held.length > 0; round++) {
        while (held.length > 0) held.shift()!();
        await Bun.sleep(1);
      }
    },
  };
}

/** A batch of `lines` log lines of `size` bytes each, numbered from `first`. */
function batch(first: number, lines: number, size = 100): Uint8Array {
  let text = "";
  for (let i = first; i < first + lines; i++) text += `${`line ${i}`.padEnd(size - 1, ".")}\n`;
  return new TextEncoder().encode(text);
}

const text = (chunks: Uint8Array[]) => chunks.map((chunk) => new TextDecoder().decode(chunk)).join("");

describe("pacedOutput", () => {
  test("a stream that keeps up gets every batch at once, in order", async () => {
    const slow = slowStream(1024 * 1024);
    const output = pacedOutput(slow.stream);
    for (let i = 0; i < 5; i++) output.write(batch(i * 10, 10));
    // All handed to the stream at once: nothing waits in the output's own queue.
    expect(output.pendingBytes()).toBe(0);
    await slow.release();
    expect(text(slow.written)).toBe(text([0, 1, 2, 3, 4].map((i) => batch(i * 10, 10))));
    expect(output.pendingBytes()).toBe(0);
  });

  test("while the stream is full, batches wait in its queue, not the stream's, up to the limit", async () => {
    const slow = slowStream(1000);
    const dropped: number[] = [];
    const output = pacedOutput(slow.stream, { maxPendingBytes: 3000, onDropped: (n) => dropped.push(n) });
    // 1000 bytes each: the first fills the stream; three wait; the rest find the queue full.
    for (let i = 0; i < 8; i++) output.write(batch(i * 10, 10));
    expect(output.pendingBytes()).toBe(3000);
    expect(dropped).toEqual([]);
    await slow.release();
    // Once the reader caught up: what was kept, in order, and one count of what was not.
    expect(text(slow.written)).toBe(text([0, 1, 2, 3].map((i) => batch(i * 10, 10))));
    expect(dropped).toEqual([40]);
    expect(output.pendingBytes()).toBe(0);
    // Caught up, it takes batches again.
    output.write(batch(80, 10));
    await slow.release();
    expect(text(slow.written).endsWith(text([batch(80, 10)]))).toBe(true);
    expect(dropped).toEqual([40]);
  });

  test("the drop notice, written from onDropped, goes out behind what was kept", async () => {
    const slow = slowStream(100);
    const output = pacedOutput(slow.stream, {
      maxPendingBytes: 200,
      onDropped: (n) => output.write(new TextEncoder().encode(`dropped ${n}\n`)),
    });
    for (let i = 0; i < 5; i++) output.write(batch(i, 1));
    await slow.release();
    const lines = text(slow.written).split("\n").filter(Boolean);
    expect(lines.map((line) => line.replace(/\.+$/, ""))).toEqual([
      "line 0",
      "line 1",
      "line 2",
      "dropped 2",
    ]);
  });

  test("take() hands over the queue (for the synchronous write at exit); idle() waits for it to go", async () => {
    const slow = slowStream(100);
    const output = pacedOutput(slow.stream);
    for (let i = 0; i < 3; i++) output.write(batch(i, 1));
    let idle = false;
    void output.idle().then(() => (idle = true));
    await Bun.sleep(5);
    expect(idle).toBe(false);
    await slow.release();
    await Bun.sleep(1);
    expect(idle).toBe(true);

    for (let i = 3; i < 6; i++) output.write(batch(i, 1));
    expect(text(output.take())).toBe(text([batch(4, 1), batch(5, 1)]));
    expect(output.pendingBytes()).toBe(0);
  });
});
