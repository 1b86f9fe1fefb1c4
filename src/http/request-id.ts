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

export function generateRequestId(): string {
  const random = crypto.getRandomValues(new Uint16Array(3));
  const adjective = ADJECTIVES[(random[0] as number) % ADJECTIVES.length];
  const action = ACTIONS[(random[1] as number) % ACTIONS.length];
  return `${adjective}-${action}-${(random[2] as number).toString(16).padStart(4, "0")}`;
}
