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

/** Every "adjective-action-" as bytes, made once. */
const PREFIXES = ADJECTIVES.flatMap((adjective) =>
  ACTIONS.map((action) => Buffer.from(`${adjective}-${action}-`, "latin1")),
);
const HEX = Buffer.from("0123456789abcdef", "latin1");
const idBytes = Buffer.alloc(32);

/** Not a secret, only a label for logs: Math.random is enough and costs less than the system RNG.
 * Written as bytes and read as one string: a template would make a rope of three strings, and the id
 * lives as long as its request does (48 bytes of heap each, not 96; 0.1 µs more to make). */
export function generateRequestId(): string {
  const prefix = PREFIXES[Math.floor(Math.random() * PREFIXES.length)]!;
  const suffix = Math.floor(Math.random() * 0x10000);
  let at = prefix.copy(idBytes, 0);
  idBytes[at++] = HEX[suffix >> 12]!;
  idBytes[at++] = HEX[(suffix >> 8) & 15]!;
  idBytes[at++] = HEX[(suffix >> 4) & 15]!;
  idBytes[at++] = HEX[suffix & 15]!;
  return idBytes.toString("latin1", 0, at);
}
