// The upstream client for `proxy.engine`: olla (pooled HTTP/1.1 on Bun.connect) or sherpa (fetch).

import type { Config } from "../config/index.ts";
import {
  createFetchClient,
  createPooledClient,
  resolveUpstreamOptions,
  type UpstreamClient,
} from "./upstream/index.ts";

export function createUpstreamClient(proxy: Config["proxy"]): UpstreamClient {
  const options = resolveUpstreamOptions(proxy.engine, {
    connectTimeoutMs: proxy.connection_timeout,
    tlsHandshakeTimeoutMs: proxy.tls_handshake_timeout,
    responseHeaderTimeoutMs: proxy.response_header_timeout,
    readTimeoutMs: proxy.read_timeout,
    maxIdleConns: proxy.max_idle_conns,
    maxConnsPerHost: proxy.max_conns_per_host,
    idleConnTimeoutMs: proxy.idle_conn_timeout,
    tcpKeepAliveMs: proxy.connection_keep_alive,
    streamBufferSize: proxy.stream_buffer_size,
  });
  return proxy.engine === "olla" ? createPooledClient(options) : createFetchClient(options);
}
