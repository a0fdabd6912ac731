// One http-01 challenge responder for every simulated client. step-ca fetches
// http://<identifier>:<port>/.well-known/acme-challenge/<token>, where the identifier is a
// device's own address: by default a 127.x.y.z one, so the responder answers on all of
// 127.0.0.0/8; with a configured address plan on the plan's addresses too, where a remote
// bootstrap CA reaches them.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import type { AddressPlan } from '../client/addresses.ts';

/** Where a webroot keeps http-01 tokens, as every ACME client's webroot mode writes them (the step CLI's too). */
export const ACME_CHALLENGE_PATH = ['.well-known', 'acme-challenge'];
const PREFIX = `/${ACME_CHALLENGE_PATH.join('/')}/`;

export interface StartedChallengeResponder {
  port: number;
  /** Publishes the key authorization for a token until remove() is called (a worker's proxy resolves once it is). */
  publish(token: string, keyAuthorization: string): void | Promise<void>;
  remove(token: string): void;
  /** Requests answered / refused so far, for reports. */
  readonly stats: { served: number; notFound: number; refusedNotClientAddress: number };
  /** Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What a client needs of a responder: publish a key authorization for a token, then remove it. */
export type ChallengePublisher = Pick<StartedChallengeResponder, 'publish' | 'remove'>;

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return (net.isIPv4(v4) && v4.startsWith('127.')) || address === '::1';
}

/**
 * Whether a connection that arrived on `local` is one a client's challenge comes over: loopback,
 * or an address of the clients' plan (from any peer: the bootstrap CA may be on another host).
 */
export function arrivesOnClientAddress(local: string | undefined, plan: AddressPlan | undefined): boolean {
  return isLoopback(local) || (local !== undefined && plan?.contains(local) === true);
}

/** ACME tokens are base64url (RFC 8555 8.1): anything else never names a file. */
export function isChallengeToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{16,256}$/.test(token);
}

export interface ChallengeResponderOptions {
  /**
   * Also answer from files `<webroot>/<token>`, written by other processes (the fleet segments
   * of `ecm-lab load --lab`), as an ACME client's webroot mode does.
   */
  webroot?: string;
  /**
   * The clients' addresses: connections that arrive on one of them are answered (from any peer:
   * the bootstrap CA may be on another host), as are those on loopback; any other is dropped.
   */
  clientAddresses?: AddressPlan;
  /**
   * Listen on each of these addresses (a socket each) instead of 0.0.0.0: a load segment with a
   * block of its own shares the ACME http port of its host with any other segment there.
   */
  listenOn?: readonly string[];
}

export async function startChallengeResponder(port: number, options: ChallengeResponderOptions = {}): Promise<StartedChallengeResponder> {
  const tokens = new Map<string, string>();
  const stats = { served: 0, notFound: 0, refusedNotClientAddress: 0 };
  const plan = options.clientAddresses;
  const fromWebroot = async (token: string) =>
    options.webroot && isChallengeToken(token) ? readFile(path.join(options.webroot, token), 'utf8').catch(() => undefined) : undefined;
  const server = http.createServer(async (req, res) => {
    const token = req.method === 'GET' && req.url?.startsWith(PREFIX) ? req.url.slice(PREFIX.length) : undefined;
    const keyAuthorization = token ? (tokens.get(token) ?? (await fromWebroot(token))) : undefined;
    if (keyAuthorization === undefined) {
      stats.notFound++;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('unknown token\n');
      return;
    }
    stats.served++;
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(keyAuthorization);
  });
  // Binding 0.0.0.0 is the only way to receive on every address of a block with one socket; any
  // connection that arrived on another address is dropped before HTTP is parsed.
  server.on('connection', (socket) => {
    if (!arrivesOnClientAddress(socket.localAddress, plan)) {
      stats.refusedNotClientAddress++;
      socket.destroy();
    }
  });
  server.keepAliveTimeout = 1000;
  const hosts = options.listenOn ?? ['0.0.0.0'];
  // One address: the HTTP server's own socket. Several: a socket each, whose connections the
  // HTTP server serves (it tracks no connections it did not accept, so they are kept here).
  const accepted = new Set<net.Socket>();
  const listeners: net.Server[] = hosts.length === 1 && !options.listenOn ? [server] : hosts.map(() =>
    net.createServer((socket) => {
      accepted.add(socket.once('close', () => accepted.delete(socket)));
      server.emit('connection', socket);
    }),
  );
  await Promise.all(
    listeners.map(async (listener, i) => {
      listener.listen({ port, host: hosts[i] });
      await Promise.race([once(listener, 'listening'), once(listener, 'error').then(([err]) => Promise.reject(err))]).catch((err: Error) => {
        for (const l of listeners) l.close();
        throw new Error(`cannot start the http-01 challenge responder on ${hosts[i]}:${port}: ${err.message}`);
      });
    }),
  );
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      const closed = listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve())));
      server.closeAllConnections();
      for (const socket of accepted) socket.destroy();
      await Promise.all(closed);
    })());
  return {
    port: (listeners[0]!.address() as net.AddressInfo).port,
    publish: (token, keyAuthorization) => void tokens.set(token, keyAuthorization),
    remove: (token) => void tokens.delete(token),
    stats,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
