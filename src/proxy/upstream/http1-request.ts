// Encodes an UpstreamRequest as HTTP/1.1 wire bytes for the pooled client: request line, Host, the
// caller's headers, Content-Length framing and the body, as one buffer when small (one write syscall).

import { isStreamingBody, requestPath, type UpstreamRequest } from "./types.ts";

/** Framing and connection headers the client owns; copies from the caller are dropped. */
const MANAGED = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive"]);
/** Methods whose empty body is still announced (RFC 9110 §8.6: a POST without a body says 0). */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
/** Bodies up to this size are copied behind the head so the request leaves in one write. */
const INLINE_BODY_MAX = 64 * 1024;

export interface EncodedRequest {
  /** Written in order; the body is never copied when it is large. */
  chunks: Uint8Array[];
  /** The caller asked for Connection: close, so the socket must not be reused. */
  closeAfter: boolean;
}

/** What the head takes from a request's URL, read once per URL object (see UpstreamRequest.url). */
export interface Authority {
  /** The Host header. */
  host: string;
  /** Basic credentials from the URL's user:password, when it has them. */
  authorization: string | undefined;
}

export function authorityOf(url: URL): Authority {
  let authorization: string | undefined;
  if (url.username !== "" || url.password !== "") {
    // fetch turns URL userinfo into Basic auth; do the same so both engines send identical requests.
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
  }
  return { host: url.host, authorization };
}

export function encodeRequest(req: UpstreamRequest, authority: Authority): EncodedRequest {
  let head = `${req.method} ${requestPath(req)} HTTP/1.1\r\nHost: ${authority.host}\r\n`;
  let closeAfter = false;
  let hasAuthorization = false;
  // Names are lower case: a Headers iterates them so, and pairs are given so.
  for (const [name, value] of req.headers) {
    if (MANAGED.has(name)) {
      if (name === "connection" && /(?:^|,)\s*close\s*(?:,|$)/i.test(value)) closeAfter = true;
      continue;
    }
    if (name === "authorization") hasAuthorization = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!hasAuthorization && authority.authorization !== undefined) {
    head += `authorization: ${authority.authorization}\r\n`;
  }
  const body = req.body;
  if (isStreamingBody(body)) {
    // The body follows as it arrives (the writer appends it); only the head is encoded here.
    head += `content-length: ${body.length}\r\n${closeAfter ? "connection: close\r\n" : ""}\r\n`;
    return { chunks: [Buffer.from(head, "latin1")], closeAfter };
  }
  if (body !== null) head += `content-length: ${body.byteLength}\r\n`;
  else if (BODY_METHODS.has(req.method.toUpperCase())) head += "content-length: 0\r\n";
  if (closeAfter) head += "connection: close\r\n";
  head += "\r\n";

  // Header values are byte strings (one char per byte), so latin1 is the faithful encoding.
  const headLength = head.length;
  if (body === null || body.byteLength === 0) {
    return { chunks: [Buffer.from(head, "latin1")], closeAfter };
  }
  if (body.byteLength <= INLINE_BODY_MAX) {
    const buf = Buffer.allocUnsafe(headLength + body.byteLength);
    buf.write(head, 0, "latin1");
    buf.set(body, headLength);
    return { chunks: [buf], closeAfter };
  }
  return { chunks: [Buffer.from(head, "latin1"), body], closeAfter };
}
