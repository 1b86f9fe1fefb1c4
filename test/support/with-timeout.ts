// Bounds any promise in a test, so a stuck fake or proxy fails fast with a named cause
// instead of hitting the runner's timeout.

export function withTimeout<T>(promise: PromiseLike<T>, ms: number, label = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}
