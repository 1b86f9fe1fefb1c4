// What is wrong with a configuration, said so a user can fix it: key path, value, expectation, origin.

export interface ConfigProblem {
  level: "error" | "warning";
  /** Dotted key path ("proxy.load_balancer", "discovery.static.endpoints[0].url"), or "" for the file itself. */
  path: string;
  message: string;
  /** Where the value came from: a file path, "env OLLA_X", or "defaults". */
  source?: string;
  /** The offending value, shown shortened; absent when the problem is a missing value. */
  value?: unknown;
}

/** Thrown when configuration cannot be used; carries every problem found, not just the first. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
  }
}

function showValue(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The problem without its level: where, the value, what is wrong (a log line has a level of its own). */
export function describeProblem(problem: ConfigProblem): string {
  const value = problem.value !== undefined ? ` = ${showValue(problem.value)}` : "";
  if (!problem.path) return `${problem.source ?? "config"}${value}: ${problem.message}`;
  const source = problem.source ? ` (from ${problem.source})` : "";
  return `${problem.path}${value}${source}: ${problem.message}`;
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.level}: ${describeProblem(problem)}`;
}

/** One line per problem on stderr, for the CLI. */
export function printProblems(problems: readonly ConfigProblem[]): void {
  for (const problem of problems) process.stderr.write(`${formatProblem(problem)}\n`);
}
