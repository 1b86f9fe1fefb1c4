// Human units in configuration: durations ("500ms", "5s", "1h30m") and byte sizes ("50MB", "1MiB").
// Parsed values are plain numbers (milliseconds, bytes) so the rest of the code never sees strings.

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/y;

/** Parses a Go-style duration ("1h30m", "500ms", "0") to milliseconds; undefined when malformed. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === "number") return input === 0 ? 0 : undefined; // a bare number has no unit: ambiguous
  const text = input.trim();
  if (text === "0") return 0;
  if (text === "") return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const at = DURATION_PART.lastIndex;
    const match = DURATION_PART.exec(text);
    if (!match || match.index !== at) return undefined;
    total += Number(match[1]) * (DURATION_UNITS[match[2] as string] as number);
  }
  return Math.round(total * 1000) / 1000;
}

/** Formats milliseconds the way a user would write them ("30s", "5m", "1h30m", "250ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
  let seconds = ms / 1000;
  let out = "";
  for (const [unit, size] of [
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (seconds >= size) {
      out += `${Math.floor(seconds / size)}${unit}`;
      seconds %= size;
    }
  }
  return seconds > 0 || out === "" ? `${out}${seconds}s` : out;
}

// Like Olla (Go), decimal-looking units are binary: "100MB" is 100 MiB, as users of that config expect.
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/;

/** Parses "50MB", "1MiB", "512k" or plain bytes to a byte count; undefined when malformed. */
export function parseSize(input: string | number): number | undefined {
  if (typeof input === "number") return Number.isFinite(input) && input >= 0 ? Math.floor(input) : undefined;
  const match = SIZE.exec(input.trim().toLowerCase());
  if (!match) return undefined;
  const factor = SIZE_UNITS[match[2] || "b"];
  if (factor === undefined) return undefined;
  return Math.floor(Number(match[1]) * factor);
}

/** Formats bytes with binary units ("100MiB", "1KiB", "1500B"). */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
