// The human strings of Olla's status pages, in Olla's own forms: latencies ("120ms", "1.2s"), byte counts
// ("1.20 KB"), percentages ("99.6%"), uptime ("45s", "5m", "1h 2m", "2d 3h") and times relative to now
// ("2s ago", "in 3s").

/** Milliseconds as Olla shows a latency: "0ms", "120ms", and from a second up "1.2s". */
export function formatLatency(ms: number): string {
  const whole = Math.round(ms);
  if (whole < 1000) return `${Math.max(0, whole)}ms`;
  return `${(whole / 1000).toFixed(1)}s`;
}

const BYTE_UNITS = ["KB", "MB", "GB", "TB", "PB"];

/** A byte count in powers of 1024 with two decimals: "0 B", "512 B", "1.20 KB", "3.40 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.max(0, Math.floor(bytes))} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${BYTE_UNITS[unit]}`;
}

/** A percentage as Olla writes it: "0%", "100%", else one decimal ("99.6%"). */
export function formatPercent(value: number): string {
  if (value === 0) return "0%";
  if (value === 100) return "100%";
  return `${value.toFixed(1)}%`;
}

/** Uptime as Olla shows it: "45s", "5m" under an hour, "1h 2m" under a day, then "2d 3h". */
export function formatUptime(ms: number): string {
  const seconds = Math.max(0, ms / 1000);
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor(seconds / 60) % 60;
  if (hours < 24) return `${hours}h ${minutes}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** "3s", "5m", "2h", "3d": one unit, whole seconds below a minute, rounded above. */
function span(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

/** How long ago `at` (epoch ms) was: "2s ago"; "never" without a time. */
export function timeAgo(at: number | undefined, now: number): string {
  if (at === undefined) return "never";
  return `${span(Math.max(0, now - at))} ago`;
}

/** How long until `at` (epoch ms): "in 3s"; "now" when due or overdue; "unknown" without a time. */
export function timeUntil(at: number | undefined, now: number): string {
  if (at === undefined) return "unknown";
  const ms = at - now;
  return ms <= 0 ? "now" : `in ${span(ms)}`;
}
