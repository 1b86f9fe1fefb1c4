// FNV-1a, 64-bit, over bytes or a string, without BigInt: the hash is kept as four 16-bit limbs, so
// hashing a sticky-session key allocates nothing but the short string it ends in.

/** 2^40 + 0x1b3, the FNV-64 prime: a limb times 0x1b3, plus the limb two places up shifted by 8. */
const PRIME_LOW = 0x1b3;

/** A running FNV-1a 64 hash. One instance is reused: reset() starts a new hash. */
export class Fnv64 {
  // The offset basis 0xcbf29ce484222325, lowest limb first.
  private l0 = 0x2325;
  private l1 = 0x8422;
  private l2 = 0x9ce4;
  private l3 = 0xcbf2;

  reset(): this {
    this.l0 = 0x2325;
    this.l1 = 0x8422;
    this.l2 = 0x9ce4;
    this.l3 = 0xcbf2;
    return this;
  }

  /** Hashes bytes[from, to). */
  bytes(bytes: Uint8Array, from = 0, to = bytes.length): this {
    for (let i = from; i < to; i++) this.byte(bytes[i]!);
    return this;
  }

  /** Hashes a string's UTF-16 code units as bytes (one byte each below 256, as header values are; the
   * high byte first for the others, so distinct strings stay distinct inputs). */
  text(text: string): this {
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit > 0xff) this.byte(unit >>> 8);
      this.byte(unit & 0xff);
    }
    return this;
  }

  /** One byte: xor into the low limb, then times the prime, limb by limb. Every partial product stays
   * below 2^31, so plain number arithmetic is exact. */
  private byte(byte: number): void {
    const l0 = this.l0 ^ byte;
    const t0 = l0 * PRIME_LOW;
    const t1 = this.l1 * PRIME_LOW + (t0 >>> 16);
    const t2 = this.l2 * PRIME_LOW + (l0 << 8) + (t1 >>> 16);
    this.l3 = (this.l3 * PRIME_LOW + (this.l1 << 8) + (t2 >>> 16)) & 0xffff;
    this.l2 = t2 & 0xffff;
    this.l1 = t1 & 0xffff;
    this.l0 = t0 & 0xffff;
  }

  /** The hash as four UTF-16 code units: a compact map key (not for display). */
  units(): string {
    return String.fromCharCode(this.l3, this.l2, this.l1, this.l0);
  }

  /** The hash as 16 lowercase hex digits (for tests and logs). */
  hex(): string {
    const high = (this.l3 * 0x10000 + this.l2).toString(16).padStart(8, "0");
    return high + (this.l1 * 0x10000 + this.l0).toString(16).padStart(8, "0");
  }
}
