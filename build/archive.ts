// Release archives written in-process: ustar + gzip for Unix targets, zip for Windows. No `tar`/`zip`
// binaries needed (CI machines may lack `zip`), and the binary's exec bit is set on every platform.

import { deflateRawSync } from "node:zlib";

export interface ArchiveEntry {
  /** Path inside the archive, `/`-separated; a trailing `/` makes a directory. */
  path: string;
  data: Uint8Array;
  /** Unix permission bits, e.g. 0o755 for the binary. */
  mode: number;
}

const BLOCK = 512;
const encoder = new TextEncoder();

/** Writes `value` as zero-padded octal filling `width - 1` bytes plus a NUL, as ustar expects. */
function octal(header: Uint8Array, offset: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, "0");
  if (digits.length > width - 1) throw new Error(`tar: ${value} does not fit in ${width} bytes`);
  header.set(encoder.encode(digits), offset);
}

function tarHeader(entry: ArchiveEntry, mtime: number): Uint8Array {
  const name = encoder.encode(entry.path);
  // Our paths are short; the 155-byte prefix field is not worth its complexity.
  if (name.length > 100) throw new Error(`tar: path longer than 100 bytes: ${entry.path}`);
  const isDir = entry.path.endsWith("/");
  const header = new Uint8Array(BLOCK);
  header.set(name, 0);
  octal(header, 100, 8, entry.mode);
  octal(header, 108, 8, 0); // uid: root, so unpacking as root gives root-owned files
  octal(header, 116, 8, 0); // gid
  octal(header, 124, 12, isDir ? 0 : entry.data.length);
  octal(header, 136, 12, mtime);
  header.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  header[156] = isDir ? 0x35 : 0x30; // '5' directory, '0' file
  header.set(encoder.encode("ustar\u000000"), 257);
  header.set(encoder.encode("root"), 265);
  header.set(encoder.encode("root"), 297);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.set(encoder.encode(`${sum.toString(8).padStart(6, "0")}\u0000 `), 148);
  return header;
}

export type GzipLevel = NonNullable<NonNullable<Parameters<typeof Bun.gzipSync>[1]>["level"]>;

/** A gzip-compressed ustar archive of the entries, in order. */
export function tarGz(entries: readonly ArchiveEntry[], mtime: Date, level: GzipLevel = 9): Uint8Array {
  const seconds = Math.floor(mtime.getTime() / 1000);
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    parts.push(tarHeader(entry, seconds));
    if (entry.path.endsWith("/")) continue;
    parts.push(entry.data);
    const padded = Math.ceil(entry.data.length / BLOCK) * BLOCK;
    if (padded > entry.data.length) parts.push(new Uint8Array(padded - entry.data.length));
  }
  parts.push(new Uint8Array(2 * BLOCK)); // end-of-archive marker
  return Bun.gzipSync(Buffer.concat(parts), { level });
}

/** MS-DOS date and time, as zip stores them (local fields, 2-second resolution). */
function dosTime(date: Date): { time: number; date: number } {
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1),
    date: ((date.getUTCFullYear() - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

/** A zip archive of the entries: deflated when that is smaller, stored otherwise. No zip64 (< 4 GiB). */
export function zip(entries: readonly ArchiveEntry[], mtime: Date): Uint8Array {
  const stamp = dosTime(mtime);
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.path);
    const isDir = entry.path.endsWith("/");
    const data = isDir ? new Uint8Array(0) : entry.data;
    const deflated = data.length ? deflateRawSync(data, { level: 9 }) : data;
    const method = deflated.length < data.length ? 8 : 0;
    const body = method === 8 ? deflated : data;
    const crc = Bun.hash.crc32(data);

    // The fields local and central headers share, in the same order, from `at`.
    const common = (view: DataView, at: number) => {
      view.setUint16(at, 20, true); // version needed: 2.0 (deflate)
      view.setUint16(at + 2, 0x0800, true); // names are UTF-8
      view.setUint16(at + 4, method, true);
      view.setUint16(at + 6, stamp.time, true);
      view.setUint16(at + 8, stamp.date, true);
      view.setUint32(at + 10, crc, true);
      view.setUint32(at + 14, body.length, true);
      view.setUint32(at + 18, data.length, true);
      view.setUint16(at + 22, name.length, true);
    };
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    common(local, 4);
    locals.push(new Uint8Array(local.buffer), name, body);

    const central = new DataView(new ArrayBuffer(46));
    central.setUint32(0, 0x02014b50, true);
    central.setUint16(4, (3 << 8) | 20, true); // made by Unix, so unzip honours the mode bits
    common(central, 6);
    const unixMode = (isDir ? 0o040000 : 0o100000) | entry.mode;
    central.setUint32(38, ((unixMode << 16) | (isDir ? 0x10 : 0)) >>> 0, true);
    central.setUint32(42, offset, true);
    centrals.push(new Uint8Array(central.buffer), name);
    offset += 30 + name.length + body.length;
  }
  const centralSize = centrals.reduce((total, part) => total + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return Buffer.concat([...locals, ...centrals, new Uint8Array(end.buffer)]);
}
