// Per translator counts for /internal/stats/translators, in Olla's shape: requests by outcome, by
// mode (passthrough or translation), streamed or not, and why a request was translated rather than
// passed through. A handful of integers per translator: the counting costs nothing worth measuring.

export type TranslatorMode = "passthrough" | "translation";

/** Why a request was translated instead of passed through (Olla's three reasons). */
export type FallbackReason =
  "no_compatible_endpoints" | "translator_does_not_support_passthrough" | "cannot_passthrough";

/** One request through a translator, counted once it is over. */
export interface TranslatedRequest {
  mode: TranslatorMode;
  /** Translation only: why passthrough was not used, when that is known. */
  fallback?: FallbackReason;
  streaming: boolean;
  success: boolean;
  durationMs: number;
}

/** Failed, translated and non-streaming counts are what the total leaves of these. */
interface Counts {
  total: number;
  successful: number;
  passthrough: number;
  streaming: number;
  fallback: Record<FallbackReason, number>;
  /** Summed over successful requests only, as Olla averages. */
  successMs: number;
}

function emptyCounts(): Counts {
  return {
    total: 0,
    successful: 0,
    passthrough: 0,
    streaming: 0,
    fallback: {
      no_compatible_endpoints: 0,
      translator_does_not_support_passthrough: 0,
      cannot_passthrough: 0,
    },
    successMs: 0,
  };
}

export interface TranslatorStats {
  record(translator: string, request: TranslatedRequest): void;
  /** The /internal/stats/translators body. */
  snapshot(now?: Date): TranslatorStatsJson;
}

/** A share of `total` as a percentage with one decimal (Olla shows "99.6%"); 0 without traffic. */
const percent = (part: number, total: number) => (total === 0 ? 0 : Math.round((part / total) * 1000) / 10);

/** `translators`: the enabled ones, listed from the start (zeros until their first request). */
export function createTranslatorStats(translators: readonly string[]): TranslatorStats {
  const counts = new Map<string, Counts>(translators.map((name) => [name, emptyCounts()]));
  return {
    record(translator, request) {
      let entry = counts.get(translator);
      if (entry === undefined) counts.set(translator, (entry = emptyCounts()));
      entry.total++;
      if (request.success) {
        entry.successful++;
        entry.successMs += request.durationMs;
      }
      if (request.mode === "passthrough") entry.passthrough++;
      else if (request.fallback !== undefined) entry.fallback[request.fallback]++;
      if (request.streaming) entry.streaming++;
    },
    snapshot(now = new Date()) {
      const list = [...counts].map(([name, entry]) => ({
        translator_name: name,
        total_requests: entry.total,
        successful_requests: entry.successful,
        failed_requests: entry.total - entry.successful,
        success_rate: percent(entry.successful, entry.total),
        passthrough_rate: percent(entry.passthrough, entry.total),
        passthrough_requests: entry.passthrough,
        translation_requests: entry.total - entry.passthrough,
        streaming_requests: entry.streaming,
        non_streaming_requests: entry.total - entry.streaming,
        fallback_no_compatible_endpoints: entry.fallback.no_compatible_endpoints,
        fallback_translator_does_not_support_passthrough:
          entry.fallback.translator_does_not_support_passthrough,
        fallback_cannot_passthrough: entry.fallback.cannot_passthrough,
        average_latency:
          entry.successful === 0 ? 0 : Math.round((entry.successMs / entry.successful) * 10) / 10,
      }));
      list.sort((a, b) => b.total_requests - a.total_requests);
      const sum = (field: (entry: Counts) => number) =>
        [...counts.values()].reduce((total, entry) => total + field(entry), 0);
      const total = sum((entry) => entry.total);
      const passthrough = sum((entry) => entry.passthrough);
      const streaming = sum((entry) => entry.streaming);
      return {
        timestamp: now.toISOString(),
        translators: list,
        summary: {
          total_translators: counts.size,
          active_translators: [...counts.values()].filter((entry) => entry.total > 0).length,
          total_requests: total,
          overall_success_rate: percent(
            sum((entry) => entry.successful),
            total,
          ),
          total_passthrough: passthrough,
          total_translations: total - passthrough,
          overall_passthrough_rate: percent(passthrough, total),
          total_streaming: streaming,
          total_non_streaming: total - streaming,
        },
      };
    },
  };
}

export interface TranslatorStatsJson {
  timestamp: string;
  translators: {
    translator_name: string;
    total_requests: number;
    successful_requests: number;
    failed_requests: number;
    success_rate: number;
    passthrough_rate: number;
    passthrough_requests: number;
    translation_requests: number;
    streaming_requests: number;
    non_streaming_requests: number;
    fallback_no_compatible_endpoints: number;
    fallback_translator_does_not_support_passthrough: number;
    fallback_cannot_passthrough: number;
    average_latency: number;
  }[];
  summary: {
    total_translators: number;
    active_translators: number;
    total_requests: number;
    overall_success_rate: number;
    total_passthrough: number;
    total_translations: number;
    overall_passthrough_rate: number;
    total_streaming: number;
    total_non_streaming: number;
  };
}
