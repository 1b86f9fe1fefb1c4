// How a route that speaks another API than its endpoints plugs into the proxy: it validates the
// client's body, says which endpoints can serve it and in which form each gets the request, and turns
// the endpoint's answer back into the client's API. The proxy keeps routing, failover and stats.

import type { Endpoint } from "../endpoints/index.ts";
import type { RequestRecord } from "../http/router.ts";
import type { AnswerObserver } from "./observe.ts";

export interface AdaptedRequest {
  /** Path on the endpoint, and the body it gets. */
  path: string;
  body: Uint8Array;
  /** "passthrough": the endpoint speaks the client's API, its answer goes back as it is. */
  mode: "passthrough" | "translation";
}

export interface AnswerContext {
  /** Response headers olla already decided (X-Olla-*, routing); the adapter may add to them. */
  headers: Headers;
  /** The endpoint's answer is no longer in use (idempotent). */
  release: () => void;
  observer: AnswerObserver;
  requestId: string;
  /** The endpoint's answer broke off while being read: what to tell the client (502, 504 past the
   *  deadline, 499 when the client left), as olla's other routes do. */
  brokeOff: (error: unknown) => AnswerFailure;
}

export interface AnswerFailure {
  status: number;
  message: string;
  /** OpenAI's machine-readable code (upstream_error, upstream_timeout, client_gone). */
  code: string;
}

export interface PreparedRequest {
  /** The model the client asked for. */
  model: string;
  /** Builds the request for one endpoint; `backendName` is the endpoint's name for the model. */
  forEndpoint(endpoint: Endpoint, backendName: string | undefined): AdaptedRequest;
  /** The client's answer from a translated exchange (passthrough answers go back untouched). */
  respond(response: Response, context: AnswerContext): Promise<Response>;
}

export interface PrepareInfo {
  requestId: string;
  headers: Headers;
  /** Where the body's top-level "model" string lies, for renaming it byte-exactly (inspectBody). */
  modelAt: [start: number, end: number] | undefined;
  /** The request's record, for an adapter that keeps notes beside it (translator stats). */
  record?: RequestRecord;
}

export interface ApiAdapter {
  /** Largest body this API accepts (413 above). */
  maxBodySize: number;
  /** Parses and validates the client's body: the prepared request, or the error to answer with. */
  prepare(body: Uint8Array, request: PrepareInfo): PreparedRequest | Response;
  /** Endpoints that can serve this API at all (natively or through translation). */
  accepts(endpoint: Endpoint): boolean;
}
