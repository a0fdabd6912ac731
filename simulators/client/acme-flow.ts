// The device's ACME client (RFC 8555), lean: every JWS signed with node:crypto by a key object
// (ES256), one kept-alive connection for the whole flow, the directory read once, each answer's
// Replay-Nonce used for the next request (newNonce asked once), no poll when the server's answer
// already says valid (step-ca validates http-01 before it answers the challenge, and issues before
// it answers finalize). acme-client and axios, which it replaces, were a fifth of the swarm's CPU.
import { createHash, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type https from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { request, type HttpResponse } from '../../net/https-client.ts';
import { HttpStatusError } from '../../net/http-status-error.ts';

/** The provisioning service said no (OFF, not white-listed): a reason the device reports and retries on. */
export class ProvisioningRefusedError extends HttpStatusError {
  override name = 'ProvisioningRefusedError';
  constructor(status: number, detail: string) {
    super(status, detail, `provisioning refused (HTTP ${status}): ${detail}`);
  }
}

/** An ACME problem document (RFC 7807) the server answered with; the message is its detail, as acme-client's was. */
export class AcmeProblemError extends Error {
  constructor(
    readonly status: number,
    readonly type: string | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
}

export interface AcmeOrder {
  url: string;
  status: string;
  authorizations: string[];
  finalize: string;
  certificate?: string;
}

export interface AcmeFlowOptions {
  directoryUrl: string;
  trustedCaPem: string;
  /** The client's own address: the source of every request. */
  address: string;
  /** One kept-alive connection for the flow (and the X5C request after it). */
  agent: https.Agent;
  /** The account key: an EC P-256 key object (ES256). */
  accountKey: KeyObject;
  /** Polls of a challenge or order the server has not finished, first interval and cap (acme-client's 50 ms .. 1 s, 30 times). */
  poll?: { initialMs: number; maxMs: number; attempts: number };
}

/** The problem document of an answer, or its text. */
function problemOf(res: HttpResponse): { type: string | undefined; detail: string } {
  try {
    const problem = res.json<{ type?: string; detail?: string }>();
    return { type: problem.type, detail: problem.detail ?? res.text() };
  } catch {
    return { type: undefined, detail: res.text() };
  }
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export class AcmeFlow {
  readonly #o: AcmeFlowOptions;
  readonly #jwk: { crv: string; kty: string; x: string; y: string };
  #directory: Directory | undefined;
  #nonce: string | undefined;
  #kid: string | undefined;

  constructor(options: AcmeFlowOptions) {
    this.#o = options;
    const jwk = createPublicKey(options.accountKey).export({ format: 'jwk' });
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new Error('the ACME account key must be an EC P-256 key (ES256)');
    // RFC 7638: the thumbprint's members in lexicographic order.
    this.#jwk = { crv: jwk.crv, kty: jwk.kty, x: jwk.x!, y: jwk.y! };
  }

  #http(url: string, method: string, body?: string): Promise<HttpResponse> {
    const https = url.startsWith('https:');
    return request(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/jose+json' },
      body,
      ...(https ? { ca: this.#o.trustedCaPem, agent: this.#o.agent } : {}),
      localAddress: this.#o.address,
    });
  }

  /**
   * The directory; a refusal (the gate's RFC 7807 problem: OFF, not white-listed) is surfaced as
   * is, since it says why.
   */
  async directory(): Promise<Directory> {
    if (this.#directory) return this.#directory;
    const res = await this.#http(this.#o.directoryUrl, 'GET');
    if (res.status !== 200) throw new ProvisioningRefusedError(res.status, problemOf(res).detail);
    this.#directory = res.json<Directory>();
    return this.#directory;
  }

  async #freshNonce(): Promise<string> {
    const kept = this.#nonce;
    this.#nonce = undefined;
    if (kept) return kept;
    const res = await this.#http((await this.directory()).newNonce, 'HEAD');
    const nonce = res.headers['replay-nonce'];
    if (typeof nonce !== 'string') throw new Error(`newNonce answered HTTP ${res.status} without a Replay-Nonce`);
    return nonce;
  }

  /** A signed POST (payload undefined: POST-as-GET); a badNonce answer is retried with its fresh nonce. */
  async post(url: string, payload: unknown, expect: number[] = [200]): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      const header = { alg: 'ES256', nonce: await this.#freshNonce(), url, ...(this.#kid ? { kid: this.#kid } : { jwk: this.#jwk }) };
      const protectedHeader = b64url(JSON.stringify(header));
      const body = payload === undefined ? '' : b64url(JSON.stringify(payload));
      const signature = sign('sha256', Buffer.from(`${protectedHeader}.${body}`), { key: this.#o.accountKey, dsaEncoding: 'ieee-p1363' });
      const res = await this.#http(url, 'POST', JSON.stringify({ protected: protectedHeader, payload: body, signature: signature.toString('base64url') }));
      const nonce = res.headers['replay-nonce'];
      if (typeof nonce === 'string') this.#nonce = nonce;
      if (expect.includes(res.status)) return res;
      const problem = problemOf(res);
      if (problem.type === 'urn:ietf:params:acme:error:badNonce' && attempt < 3) continue;
      throw new AcmeProblemError(res.status, problem.type, problem.detail);
    }
  }

  async createAccount(): Promise<void> {
    const res = await this.post((await this.directory()).newAccount, { termsOfServiceAgreed: true }, [200, 201]);
    const location = res.headers.location;
    if (typeof location !== 'string') throw new Error('newAccount answered without a Location');
    this.#kid = location;
  }

  async createOrder(identifiers: Array<{ type: 'ip' | 'dns'; value: string }>): Promise<AcmeOrder> {
    const res = await this.post((await this.directory()).newOrder, { identifiers }, [201]);
    return { ...res.json<Omit<AcmeOrder, 'url'>>(), url: String(res.headers.location) };
  }

  /** The key authorization of an http-01 token (RFC 8555 §8.1): token and account key thumbprint. */
  keyAuthorization(token: string): string {
    return `${token}.${createHash('sha256').update(JSON.stringify(this.#jwk)).digest('base64url')}`;
  }

  /** Polls `url` (POST-as-GET) until `done` says so, backing off like acme-client did. */
  async #pollUntil<T extends { status: string }>(url: string, what: string, done: (body: T) => boolean): Promise<T> {
    const poll = this.#o.poll ?? { initialMs: 50, maxMs: 1000, attempts: 30 };
    for (let i = 0; i < poll.attempts; i++) {
      await delay(Math.min(poll.maxMs, poll.initialMs * 2 ** i));
      const body = (await this.post(url, undefined)).json<T>();
      if (body.status === 'invalid') throw new Error(`${what} became invalid`);
      if (done(body)) return body;
    }
    throw new Error(`${what} was not valid after ${poll.attempts} polls`);
  }

  /**
   * Serves the http-01 challenge of the order's (only) authorization through `publish` and
   * answers it; polls the authorization only if the server had not validated it yet.
   */
  async validate(order: AcmeOrder, serve: { publish(token: string, keyAuthorization: string): void | Promise<void>; remove(token: string): void }, identifier: string): Promise<void> {
    for (const authzUrl of order.authorizations) {
      const authz = (await this.post(authzUrl, undefined)).json<{ status: string; challenges: Array<{ type: string; url: string; token: string }> }>();
      if (authz.status === 'valid') continue;
      const challenge = authz.challenges.find((c) => c.type === 'http-01');
      if (!challenge) throw new Error(`the ACME server offered no http-01 challenge for ${identifier}`);
      await serve.publish(challenge.token, this.keyAuthorization(challenge.token));
      try {
        const answered = (await this.post(challenge.url, {})).json<{ status: string; error?: { detail?: string } }>();
        if (answered.status === 'invalid') throw new Error(`the http-01 challenge of ${identifier} is invalid: ${answered.error?.detail ?? 'no detail'}`);
        if (answered.status !== 'valid') await this.#pollUntil<{ status: string }>(authzUrl, `the authorization of ${identifier}`, (a) => a.status === 'valid');
      } finally {
        serve.remove(challenge.token);
      }
    }
  }

  /** Finalizes with the CSR (DER) and downloads the chain (PEM); polls the order only while the server is still issuing. */
  async finalizeAndDownload(order: AcmeOrder, csrDer: Buffer): Promise<string> {
    let finalized = (await this.post(order.finalize, { csr: csrDer.toString('base64url') })).json<AcmeOrder>();
    if (finalized.status === 'invalid') throw new Error(`order ${order.url} became invalid at finalize`);
    if (finalized.status !== 'valid' || !finalized.certificate) finalized = await this.#pollUntil<AcmeOrder>(order.url, `order ${order.url}`, (o) => o.status === 'valid' && o.certificate !== undefined);
    return (await this.post(finalized.certificate!, undefined)).text();
  }
}
