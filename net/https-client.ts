// A small HTTPS/HTTP client on node:https with per-request trust, client certificate and
// source address: fetch() cannot take a CA bundle or a local address without extra packages.
import http from 'node:http';
import https from 'node:https';
import { clientTlsOptions } from './tls-policy.ts';

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** PEM(s) of the CAs to trust for https:// URLs. */
  ca?: string | string[];
  cert?: string;
  key?: string;
  /** Name to verify the server certificate against when it differs from the URL's host. */
  servername?: string;
  /** Source address to bind, e.g. a device's own 127.x.y.z. */
  localAddress?: string;
  timeoutMs?: number;
  /** A keep-alive agent to reuse connections (and TLS sessions); a fresh connection otherwise. */
  agent?: http.Agent;
  /** Aborts the request (a process that dies mid-request sends nothing more and gets nothing back). */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export function request(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        ...(options.ca ? clientTlsOptions({ ca: options.ca, cert: options.cert, key: options.key, servername: options.servername }) : {}),
        localAddress: options.localAddress,
        timeout: options.timeoutMs ?? 15_000,
        agent: options.agent ?? false,
        signal: options.signal,
      } as https.RequestOptions, // secureContext reaches tls.connect, though RequestOptions does not list it
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: () => body.toString('utf8'),
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${target.origin}${target.pathname} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
