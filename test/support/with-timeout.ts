// Bounds any promise in a test, so a stuck fake or proxy fails fast with a named cause
// instead of hitting the runner's timeout.

export function withTimeout<T>(promise: PromiseLike<T>, ms: number, label = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it holds; fails naming `label` after `ms`, so a broken case fails instead of
 * hanging. */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms: number,
  label: string,
  pollMs = 5,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await Bun.sleep(pollMs);
  }
}
