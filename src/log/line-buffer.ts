// Log lines gathered as UTF-8 bytes and handed on in one piece: LOG_FLUSH_MS after the first line, at
// once past LOG_FLUSH_BYTES. One access-log line per request must cost neither a system call (and a
// wake-up of whoever reads the pipe) nor garbage: JSON lines can be encoded straight into the buffer
// (jsonLine and the field writers below), with no fields object, no JSON.stringify and no strings.

/** How long a line may wait for others to share its write; still quick enough to read as immediate.
 * Each write (and the reader it wakes) costs far more than the lines in it: at one client sending
 * request after request, 100 ms instead of 10 took olla's CPU per request from 248 to 224 µs (16
 * interleaved rounds, lower in 12). Under load the 64 KiB bound below decides instead. */
export const LOG_FLUSH_MS = 100;
/** Written at once past this much, whatever the time: bounds the memory a burst can hold. */
export const LOG_FLUSH_BYTES = 64 * 1024;

const QUOTE = 34;
const BACKSLASH = 92;
const encoder = new TextEncoder();

/** A class so the per-line writers are methods on one monomorphic object (no closures, no allocation). */
export class LineBuffer {
  /** Room for a full batch and a long last line; a line-at-a-time buffer needs little. */
  private readonly capacity: number;
  private bytes: Uint8Array;
  private length = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The ISO time of the last line's millisecond, as bytes (lines in one millisecond share it). */
  private readonly clock = new Uint8Array(24);
  private clockMs = Number.NaN;

  /**
   * @param out receives each batch (a copy the buffer no longer touches).
   * @param delayMs 0: every line is handed on as soon as it ends (one line per `out`).
   */
  constructor(
    private readonly out: (bytes: Uint8Array) => void,
    private readonly delayMs = LOG_FLUSH_MS,
  ) {
    this.capacity = delayMs === 0 ? 1024 : LOG_FLUSH_BYTES + 16 * 1024;
    this.bytes = new Uint8Array(this.capacity);
  }

  /** A whole rendered line (with its newline). */
  write(line: string): void {
    this.reserve(line.length * 3);
    this.length += encoder.encodeInto(line, this.bytes.subarray(this.length)).written;
    this.lineEnded();
  }

  /** Opens a JSON line: `{"time":"…","level":"…","msg":…`; fields follow with key(), end() closes it. */
  jsonLine(timeMs: number, level: string, message: string): this {
    this.ascii('{"time":"');
    this.time(timeMs);
    this.ascii('","level":"');
    this.ascii(level);
    this.ascii('","msg":');
    return this.string(message);
  }

  /** `,"name":` (names are olla's own: plain ASCII). */
  key(name: string): this {
    this.reserve(name.length + 4);
    this.bytes[this.length++] = 44; // ,
    this.bytes[this.length++] = QUOTE;
    this.ascii(name);
    this.bytes[this.length++] = QUOTE;
    this.bytes[this.length++] = 58; // :
    return this;
  }

  /** A JSON string, exactly as JSON.stringify writes it; null when absent. */
  string(value: string | null | undefined): this {
    if (value == null) return this.ascii("null");
    this.reserve(value.length + 2);
    const start = this.length;
    const bytes = this.bytes;
    let at = start;
    bytes[at++] = QUOTE;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      // Anything JSON escapes, and anything beyond ASCII, takes the slow road.
      if (code < 0x20 || code === QUOTE || code === BACKSLASH || code > 0x7f) {
        this.length = start;
        return this.encoded(JSON.stringify(value));
      }
      bytes[at++] = code;
    }
    bytes[at++] = QUOTE;
    this.length = at;
    return this;
  }

  /** A JSON number as JSON.stringify writes it; null when absent. Whole numbers and tenths (olla's
   *  durations) are written digit by digit, anything else through String(). */
  number(value: number | null | undefined): this {
    if (value == null || !Number.isFinite(value)) return this.ascii("null");
    // -0 is not below 0: it goes on as 0, as JSON.stringify writes it.
    if (value < 0) {
      this.ascii("-");
      value = -value;
    }
    if (Number.isSafeInteger(value)) return this.digits(value);
    const tenths = value * 10;
    if (Number.isSafeInteger(tenths) && tenths / 10 === value) {
      this.digits(Math.floor(tenths / 10));
      this.reserve(2);
      this.bytes[this.length++] = 46; // .
      this.bytes[this.length++] = 48 + (tenths % 10);
      return this;
    }
    return this.encoded(String(value));
  }

  /** Closes the JSON line opened with jsonLine. */
  end(): void {
    this.ascii("}\n");
    this.lineEnded();
  }

  /** Hands on what is pending now. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.length > 0) this.out(this.take());
  }

  /** Everything pending, taken out of the buffer (for a synchronous write at exit). */
  take(): Uint8Array {
    const pending = this.bytes.slice(0, this.length);
    this.length = 0;
    // A giant line grew the buffer: do not keep the space.
    if (this.bytes.length > this.capacity * 2) this.bytes = new Uint8Array(this.capacity);
    return pending;
  }

  private lineEnded(): void {
    if (this.delayMs === 0 || this.length >= LOG_FLUSH_BYTES) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.delayMs);
      // Pending lines must not keep a finished process alive: exit writes them.
      this.timer.unref();
    }
  }

  private time(ms: number): void {
    if (ms !== this.clockMs) {
      this.clockMs = ms;
      encoder.encodeInto(new Date(ms).toISOString(), this.clock);
    }
    this.reserve(24);
    this.bytes.set(this.clock, this.length);
    this.length += 24;
  }

  /** Text known to be ASCII. */
  private ascii(text: string): this {
    this.reserve(text.length);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
    this.length = at;
    return this;
  }

  private encoded(text: string): this {
    this.reserve(text.length * 3);
    this.length += encoder.encodeInto(text, this.bytes.subarray(this.length)).written;
    return this;
  }

  private digits(value: number): this {
    // 2^53 has 16 digits.
    this.reserve(16);
    const bytes = this.bytes;
    let end = this.length;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) end++;
    this.length = end + 1;
    for (let rest = value; ; rest = Math.floor(rest / 10)) {
      bytes[end--] = 48 + (rest % 10);
      if (rest < 10) break;
    }
    return this;
  }

  /** Room for `more` bytes: a line longer than the buffer's slack grows it. */
  private reserve(more: number): void {
    if (this.length + more <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + more));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}
