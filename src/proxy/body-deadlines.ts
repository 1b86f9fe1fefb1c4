// The deadlines of request bodies still arriving (server.read_timeout), kept on one list under one timer.
// Nearly every body is in before its handler asks for it, so a timer per request (armed, then cleared
// a few microseconds later) was pure cost on every request: here a body that is waited for joins a
// list (its own fields are the links: nothing allocated) and leaves it when it is in; the one timer
// wakes at the earliest deadline on the list and expires what is due.

/** A body being waited for. The list's links are the waiter's own fields. */
export interface BodyWaiter {
  /** performance.now() time after which the body is too late. */
  endsAt: number;
  prevWaiter: BodyWaiter | null;
  nextWaiter: BodyWaiter | null;
  /** The deadline passed: called once, after the waiter left the list. */
  expire(): void;
}

let head: BodyWaiter | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
/** When the timer fires (Infinity: not armed). */
let armedFor = Number.POSITIVE_INFINITY;

/** Starts watching `waiter` (its endsAt set): expire() is called once it passes, unless unwatched first. */
export function watchBody(waiter: BodyWaiter): void {
  waiter.prevWaiter = null;
  waiter.nextWaiter = head;
  if (head !== null) head.prevWaiter = waiter;
  head = waiter;
  if (waiter.endsAt < armedFor) arm(waiter.endsAt);
}

/** The body is in (or failed): no deadline any more. Harmless when not watched. */
export function unwatchBody(waiter: BodyWaiter): void {
  const { prevWaiter, nextWaiter } = waiter;
  if (prevWaiter !== null) prevWaiter.nextWaiter = nextWaiter;
  else if (head === waiter) head = nextWaiter;
  else return;
  if (nextWaiter !== null) nextWaiter.prevWaiter = prevWaiter;
  waiter.prevWaiter = null;
  waiter.nextWaiter = null;
  // The timer stays armed: it finds nothing due and goes quiet (cheaper than re-arming per request).
}

/** Bodies waited for right now (for tests and diagnostics). */
export function watchedBodies(): number {
  let count = 0;
  for (let at = head; at !== null; at = at.nextWaiter) count++;
  return count;
}

function arm(at: number): void {
  if (timer !== undefined) clearTimeout(timer);
  armedFor = at;
  timer = setTimeout(sweep, Math.max(0, at - performance.now()));
  // A body deadline alone must not keep the process alive.
  timer.unref();
}

function sweep(): void {
  timer = undefined;
  armedFor = Number.POSITIVE_INFINITY;
  const now = performance.now();
  const due: BodyWaiter[] = [];
  let next = Number.POSITIVE_INFINITY;
  for (let at = head; at !== null; at = at.nextWaiter) {
    // Timers may fire a little early: within a millisecond counts as due.
    if (at.endsAt <= now + 1) due.push(at);
    else if (at.endsAt < next) next = at.endsAt;
  }
  // Unlinked before any is told: an expire() may start or end other waits.
  for (const waiter of due) unwatchBody(waiter);
  if (next !== Number.POSITIVE_INFINITY) arm(next);
  for (const waiter of due) waiter.expire();
}
