// Preloaded into the proxy by the bench (bun --preload), never part of olla: on SIGUSR2 it runs a full
// collection and writes the JS heap's live size, its native extra memory and the resident set to
// $BENCH_HEAP_FILE, so the bench can read what each waiting request or open stream keeps, free of the
// GC's timing. RSS tells apart memory reserved (counted by the heap) from memory touched.

import { heapStats } from "bun:jsc";
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_HEAP_FILE;
if (file) {
  process.on("SIGUSR2", () => {
    Bun.gc(true);
    const stats = heapStats();
    writeFileSync(
      file,
      JSON.stringify({ heap: stats.heapSize, extra: stats.extraMemorySize, rss: process.memoryUsage().rss }),
    );
  });
}
