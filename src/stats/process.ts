// The process itself for /internal/process: memory, event-loop lag (how late timers fire, i.e. how
// busy the one JS thread is), uptime and runtime.

export interface LagMonitor {
  /** Latest and worst lag over the last interval, in ms. */
  read(): { lastMs: number; maxMs: number };
  stop(): void;
}

/** Samples event-loop lag every `intervalMs` with one unref'd timer. */
export function monitorEventLoop(intervalMs = 500): LagMonitor {
  let expected = performance.now() + intervalMs;
  let lastMs = 0;
  let maxMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lastMs = Math.max(0, now - expected);
    maxMs = Math.max(maxMs * 0.9, lastMs);
    expected = now + intervalMs;
  }, intervalMs);
  timer.unref?.();
  return {
    read: () => ({ lastMs: Math.round(lastMs * 10) / 10, maxMs: Math.round(maxMs * 10) / 10 }),
    stop: () => clearInterval(timer),
  };
}

export function processSnapshot(lag: LagMonitor, extra: Record<string, unknown>) {
  const memory = process.memoryUsage();
  const { lastMs, maxMs } = lag.read();
  return {
    timestamp: new Date().toISOString(),
    pid: process.pid,
    uptime_seconds: Math.round(process.uptime()),
    memory: {
      rss_bytes: memory.rss,
      heap_used_bytes: memory.heapUsed,
      heap_total_bytes: memory.heapTotal,
      external_bytes: memory.external,
    },
    event_loop_lag_ms: lastMs,
    event_loop_lag_max_ms: maxMs,
    runtime: {
      bun: process.versions.bun,
      platform: `${process.platform}/${process.arch}`,
      cpus: navigator.hardwareConcurrency,
      fetch_max_requests: Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ?? 256),
    },
    ...extra,
  };
}
