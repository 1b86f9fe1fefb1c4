// The HTTP/1.1 response parser on its own: framing at every split point, interim responses, and the
// malformed shapes it must refuse.

import { describe, expect, test } from "bun:test";
import {
  BODY,
  createResponseParser,
  DONE,
  HEAD,
  NEED_MORE,
  parseEof,
  parseNext,
  type ResponseHead,
} from "../../../../src/proxy/upstream/http1-response-parser.ts";
import { UpstreamError } from "../../../../src/proxy/upstream/types.ts";

interface Parsed {
  head: ResponseHead | null;
  body: string;
  done: boolean;
  /** Bytes left after the response end in the read where it ended. */
  leftover: number;
  bodyEvents: number;
}

/** Feed `pieces` as successive reads; stops at DONE like the client does. */
function parse(pieces: (string | Buffer)[], noBody = false): Parsed {
  const p = createResponseParser(noBody);
  const out: Parsed = { head: null, body: "", done: false, leftover: 0, bodyEvents: 0 };
  for (const piece of pieces) {
    const data = typeof piece === "string" ? Buffer.from(piece, "latin1") : piece;
    let offset = 0;
    for (;;) {
      const ev = parseNext(p, data, offset);
      if (ev === NEED_MORE) break;
      offset = p.offset;
      if (ev === HEAD) out.head = p.head;
      else if (ev === BODY) {
        out.body += Buffer.from(p.chunk!).toString("latin1");
        out.bodyEvents++;
      } else if (ev === DONE) {
        out.done = true;
        out.leftover = data.length - offset;
        return out;
      }
    }
  }
  return out;
}

function parseError(pieces: string[], noBody = false): UpstreamError {
  try {
    parse(pieces, noBody);
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe("protocol");
    expect((err as UpstreamError).beforeResponse).toBe(false);
    return err as UpstreamError;
  }
  throw new Error("expected a protocol error");
}

const CHUNKED =
  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
  '7;name=value;quoted="a;b"\r\ndata: 1\r\n' +
  "A\r\n0123456789\r\n" +
  "1a \r\nabcdefghijklmnopqrstuvwxyz\r\n" +
  "0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n";
const CHUNKED_BODY = "data: 10123456789abcdefghijklmnopqrstuvwxyz";

describe("http1 response parser", () => {
  test("Content-Length body in one read", () => {
    const r = parse(["HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"]);
    expect(r.head?.status).toBe(201);
    expect(r.head?.statusText).toBe("Created");
    expect(r.head?.bodyMode).toBe("length");
    expect(r.head?.contentLength).toBe(5);
    expect(r.head?.keepAlive).toBe(true);
    expect(r.head?.headers).toEqual([
      ["content-length", "5"],
      ["x-a", "1"],
    ]);
    expect(r.body).toBe("hello");
    expect(r.done).toBe(true);
    expect(r.leftover).toBe(0);
  });

  test("chunked with extensions and trailers, split at every byte offset", () => {
    for (let i = 1; i < CHUNKED.length; i++) {
      const r = parse([CHUNKED.slice(0, i), CHUNKED.slice(i)]);
      expect({ i, body: r.body, done: r.done, leftover: r.leftover }).toEqual({
        i,
        body: CHUNKED_BODY,
        done: true,
        leftover: 0,
      });
    }
  });

  test("chunked fed one byte per read", () => {
    const r = parse([...CHUNKED]);
    expect(r.body).toBe(CHUNKED_BODY);
    expect(r.done).toBe(true);
  });

  test("every split into three reads of a Content-Length response", () => {
    const wire = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    for (let i = 1; i < wire.length - 1; i++) {
      for (let j = i + 1; j < wire.length; j++) {
        const r = parse([wire.slice(0, i), wire.slice(i, j), wire.slice(j)]);
        expect({ i, j, body: r.body, done: r.done }).toEqual({ i, j, body: "0123456789", done: true });
      }
    }
  });

  test("each chunk in one read is its own body event (no coalescing inside the parser)", () => {
    const r = parse([CHUNKED]);
    expect(r.bodyEvents).toBe(3);
  });

  test("bytes after the response end are reported as leftover", () => {
    const r = parse(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"]);
    expect(r.body).toBe("ok");
    expect(r.leftover).toBe(5);
  });

  test("100 Continue and 103 Early Hints are skipped", () => {
    const r = parse([
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ]);
    expect(r.head?.status).toBe(200);
    expect(r.body).toBe("ok");
  });

  test("no body for HEAD, 204 and 304 even with Content-Length", () => {
    const head = parse(["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"], true);
    expect(head.head?.bodyMode).toBe("none");
    expect(head.done).toBe(true);
    const noContent = parse(["HTTP/1.1 204 No Content\r\n\r\n"]);
    expect(noContent.done).toBe(true);
    const notModified = parse(["HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"]);
    expect(notModified.head?.bodyMode).toBe("none");
    expect(notModified.done).toBe(true);
    const zero = parse(["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);
    expect(zero.done).toBe(true);
  });

  test("body delimited by connection close ends on EOF and is never kept alive", () => {
    const p = createResponseParser();
    const data = Buffer.from("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome");
    expect(parseNext(p, data, 0)).toBe(HEAD);
    expect(p.head?.bodyMode).toBe("close");
    expect(p.head?.keepAlive).toBe(false);
    expect(parseNext(p, data, p.offset)).toBe(BODY);
    expect(parseNext(p, data, p.offset)).toBe(NEED_MORE);
    expect(parseEof(p)).toBe(true);
  });

  test("EOF inside a Content-Length or chunked body is a truncation", () => {
    const p = createResponseParser();
    parseNext(p, Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), 0);
    expect(parseEof(p)).toBe(false);
    const q = createResponseParser();
    parseNext(q, Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"), 0);
    expect(parseEof(q)).toBe(false);
  });

  test("keep-alive rules: Connection: close, HTTP/1.0 default close, HTTP/1.0 keep-alive", () => {
    expect(parse(["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"]).head?.keepAlive).toBe(
      false,
    );
    expect(parse(["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"]).head?.keepAlive).toBe(false);
    expect(
      parse(["HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"]).head?.keepAlive,
    ).toBe(true);
  });

  test("repeated identical Content-Length is accepted", () => {
    const r = parse(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok"]);
    expect(r.body).toBe("ok");
  });

  test("multi-value headers stay separate and values lose surrounding whitespace", () => {
    const r = parse(["HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie:b=2 \r\nContent-Length: 0\r\n\r\n"]);
    expect(r.head?.headers).toEqual([
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
      ["content-length", "0"],
    ]);
  });

  test("header names come lowercase, whatever their spelling; a name is never taken by its prefix", () => {
    const r = parse([
      "HTTP/1.1 200 OK\r\nContent-Type: a\r\ncontent-type: b\r\nCONTENT-TYPE: c\r\ncOnTeNt-TyPe: d\r\n" +
        "Date: e\r\nDatex: f\r\nDat: g\r\nX-Request-Id: h\r\nTRANSFER-ENCODING: chunked\r\n\r\n0\r\n\r\n",
    ]);
    expect(r.head?.headers).toEqual([
      ["content-type", "a"],
      ["content-type", "b"],
      ["content-type", "c"],
      ["content-type", "d"],
      ["date", "e"],
      ["datex", "f"],
      ["dat", "g"],
      ["x-request-id", "h"],
      ["transfer-encoding", "chunked"],
    ]);
    // An upper-case framing header still frames the body.
    expect(r.head?.bodyMode).toBe("chunked");
    expect(r.done).toBe(true);
  });

  test("refuses Content-Length together with Transfer-Encoding", () => {
    parseError(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"]);
  });

  test("refuses conflicting duplicate Content-Length", () => {
    parseError(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"]);
    parseError(["HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n"]);
    parseError(["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"]);
  });

  test("refuses transfer codings other than chunked", () => {
    parseError(["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"]);
    parseError(["HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n"]);
  });

  test("refuses malformed heads", () => {
    parseError(["HTTP/2 200 OK\r\n\r\n"]);
    parseError(["HTTP/1.1 2000 OK\r\n\r\n"]);
    parseError(["HTTP/1.1 099 Low\r\n\r\n"]);
    parseError(["GARBAGE\r\n\r\n"]);
    parseError(["HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n"]);
    parseError(["HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"]);
    parseError(["HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n"]);
    parseError(["HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\n\r\n"]);
    parseError(["HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\n\r\n"]);
    parseError(["HTTP/1.1 200 OK\nX-A: 1\r\n\r\n"]);
    parseError(["HTTP/1.1 200 OK\r\nX-A: 1\r\r\n\r\n"]);
    parseError(["HTTP/1.1 101 Switching Protocols\r\n\r\n"]);
  });

  test("refuses a head larger than the limit, even split across reads", () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(70 * 1024)}`;
    parseError([big.slice(0, 1000), big.slice(1000)]);
    parseError([big]);
  });

  test("refuses malformed chunk framing", () => {
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    parseError([`${head}zz\r\n`]);
    parseError([`${head};ext\r\n`]);
    parseError([`${head}3\r\nabcX\r\n`]);
    parseError([`${head}3\nabc\r\n`]);
    parseError([`${head}ffffffffffffff\r\n`]);
    parseError([`${head}0\r\nX-T: 1\n\r\n`]);
  });
});
