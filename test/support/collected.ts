// Whether an object was garbage-collected, for tests of what a request, stream or client keeps.

/** Collected once nothing but `ref` points at it, within `tries` full collections some turns apart: a
 * pointer may linger for a while in a register or on the stack (the collector scans them conservatively).
 * A check that something is kept (false expected) can use fewer tries, to stay clear of a timer. */
export async function collected(ref: WeakRef<object>, tries = 20): Promise<boolean> {
  for (let i = 0; i < tries && ref.deref() !== undefined; i++) {
    await Bun.sleep(10);
    Bun.gc(true);
  }
  return ref.deref() === undefined;
}
