// The human strings of Olla's status pages: latencies ("120ms", "1.2s"), byte counts ("1.2 KB"),
// percentages ("99.6%"), uptime ("1h2m3s") and times relative to now ("2 seconds ago", "in 3 seconds").

/** Milliseconds as Olla shows a latency: "0ms", "120ms", and from a second up "1.2s". */
export function formatLatency(ms: number): string {
  const whole = Math.round(ms);
  if (whole < 1000) return `${Math.max(0, whole)}ms`;
  return `${(whole / 1000).toFixed(1)}s`;
}

const BYTE_UNITS = ["KB", "MB", "GB", "TB", "PB", "EB"];

/** A byte count in powers of 1024 with one decimal: "0 B", "512 B", "1.2 KB", "3.4 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.max(0, Math.floor(bytes))} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** A percentage as Olla writes it: "0%", "100%", else one decimal ("99.6%"). */
export function formatPercent(value: number): string {
  if (value === 0) return "0%";
  if (value === 100) return "100%";
  return `${value.toFixed(1)}%`;
}

/** A duration the way Go prints one, to the second: "0s", "45s", "2m0s", "1h2m3s". */
export function formatUptime(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** "3 seconds", "1 minute", "5 hours", "2 days": the largest whole unit. */
function span(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const [count, unit] =
    seconds < 60
      ? [seconds, "second"]
      : seconds < 3600
        ? [Math.floor(seconds / 60), "minute"]
        : seconds < 86_400
          ? [Math.floor(seconds / 3600), "hour"]
          : [Math.floor(seconds / 86_400), "day"];
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

/** How long ago `at` (epoch ms) was: "2 seconds ago"; "never" without a time. */
export function timeAgo(at: number | undefined, now: number): string {
  if (at === undefined) return "never";
  return `${span(Math.max(0, now - at))} ago`;
}

/** How long until `at` (epoch ms): "in 3 seconds"; "now" when due or overdue; "unknown" without a time. */
export function timeUntil(at: number | undefined, now: number): string {
  if (at === undefined) return "unknown";
  const ms = at - now;
  return ms < 1000 ? "now" : `in ${span(ms)}`;
}
