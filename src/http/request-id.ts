// Request ids: a client's sane X-Request-ID is kept (so traces join up), otherwise a short memorable one.

const ADJECTIVES = [
  "alpaca",
  "fluffy",
  "woolly",
  "andean",
  "curious",
  "gentle",
  "spitting",
  "humming",
  "proud",
  "sunny",
];
const ACTIONS = [
  "grazing",
  "trekking",
  "humming",
  "leaping",
  "resting",
  "roaming",
  "climbing",
  "chewing",
  "wandering",
];

/** Reuses the client's id when it is ≤128 visible ASCII characters, as Olla (Go) does. */
export function requestIdFor(headers: Headers): string {
  const given = headers.get("x-request-id");
  if (given && given.length <= 128 && /^[\x21-\x7e]+$/.test(given)) return given;
  return generateRequestId();
}

/** Not a secret, only a label for logs: Math.random is enough and costs less than the system RNG. */
export function generateRequestId(): string {
  const adjective = ADJECTIVES[Math.floor(Math.random() * ADJECTIVES.length)];
  const action = ACTIONS[Math.floor(Math.random() * ACTIONS.length)];
  const suffix = Math.floor(Math.random() * 0x10000);
  return `${adjective}-${action}-${suffix.toString(16).padStart(4, "0")}`;
}
