// A minimal ACME client (RFC 8555) that builds every JWS itself and keeps each signed request,
// so a scenario can replay it byte for byte or tamper with it. acme-client hides the JWS; an
// attacker who captured a device's traffic would not.
import type https from 'node:https';
import * as jose from 'jose';
import { request, type HttpResponse } from '../../net/https-client.ts';
import { waitFor } from '../../environments/wait.ts';
import { x509 } from '../../x509/x509.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import type { ChallengePublisher } from '../acme/http01-responder.ts';

export interface AcmeDirectory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  [name: string]: unknown;
}

/** A signed request as it went over the wire: enough to send it again unchanged. */
export interface SignedAcmeRequest {
  url: string;
  body: string;
}

export interface AcmeAnswer {
  status: number;
  headers: HttpResponse['headers'];
  /** Parsed JSON, or the text for PEM and other bodies. */
  body: unknown;
  text: string;
  /** RFC 7807 problem type, when the server refused. */
  problemType: string | undefined;
  problemDetail: string | undefined;
}

export interface AcmeIdentifier {
  type: 'ip' | 'dns';
  value: string;
}

export interface RawAcmeOptions {
  directoryUrl: string;
  trustedCaPem: string;
  /** The client's own loopback address: source of every request. */
  localAddress: string;
  /** A keep-alive agent (one connection for the whole flow, as a device keeps it); a fresh connection per request otherwise. */
  agent?: https.Agent;
  /** An account key made beforehand (the CA-limit baseline pre-makes everything it can). */
  accountKey?: { privateKey: CryptoKey; jwk: jose.JWK };
  /** How often to poll an authorization or order that is not yet valid. */
  pollIntervalMs?: number;
}

function answer(res: HttpResponse): AcmeAnswer {
  const text = res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // PEM or empty
  }
  const problem = body && typeof body === 'object' ? (body as { type?: unknown; detail?: unknown }) : {};
  return {
    status: res.status,
    headers: res.headers,
    body,
    text,
    problemType: res.status >= 400 && typeof problem.type === 'string' ? problem.type : undefined,
    problemDetail: res.status >= 400 && typeof problem.detail === 'string' ? problem.detail : undefined,
  };
}

/** Flips one bit in the middle of the JWS signature: same length, same encoding, wrong signature. */
export function tamperSignature(signed: SignedAcmeRequest): SignedAcmeRequest {
  const jws = JSON.parse(signed.body) as { protected: string; payload: string; signature: string };
  const signature = Buffer.from(jws.signature, 'base64url');
  signature[Math.floor(signature.length / 2)]! ^= 0x01;
  return { url: signed.url, body: JSON.stringify({ ...jws, signature: signature.toString('base64url') }) };
}

export class RawAcmeClient {
  readonly options: RawAcmeOptions;
  /** Every signed request, in order. */
  readonly sent: SignedAcmeRequest[] = [];
  private directory: AcmeDirectory | undefined;
  private key: CryptoKey | undefined;
  private jwk: jose.JWK | undefined;
  private kid: string | undefined;
  private nonce: string | undefined;

  constructor(options: RawAcmeOptions) {
    this.options = options;
    this.key = options.accountKey?.privateKey;
    this.jwk = options.accountKey?.jwk;
  }

  private http(url: string, init: { method: string; body?: string }): Promise<HttpResponse> {
    return request(url, {
      method: init.method,
      headers: init.body === undefined ? {} : { 'content-type': 'application/jose+json' },
      body: init.body,
      ca: this.options.trustedCaPem,
      localAddress: this.options.localAddress,
      agent: this.options.agent,
    });
  }

  async getDirectory(): Promise<AcmeDirectory> {
    if (this.directory) return this.directory;
    const res = await this.http(this.options.directoryUrl, { method: 'GET' });
    if (res.status !== 200) throw new Error(`ACME directory answered HTTP ${res.status}: ${res.text()}`);
    this.directory = res.json<AcmeDirectory>();
    return this.directory;
  }

  private async freshNonce(): Promise<string> {
    if (this.nonce) {
      const nonce = this.nonce;
      this.nonce = undefined;
      return nonce;
    }
    const res = await this.http((await this.getDirectory()).newNonce, { method: 'HEAD' });
    const nonce = res.headers['replay-nonce'];
    if (typeof nonce !== 'string') throw new Error(`newNonce answered HTTP ${res.status} without a Replay-Nonce`);
    return nonce;
  }

  /** Signs `payload` (undefined: POST-as-GET) for `url` with a fresh nonce, without sending it. */
  async sign(url: string, payload: unknown): Promise<SignedAcmeRequest> {
    if (!this.key) {
      const pair = await jose.generateKeyPair('ES256', { extractable: true });
      this.key = pair.privateKey;
      this.jwk = await jose.exportJWK(pair.publicKey);
    }
    const header: jose.JWSHeaderParameters = { alg: 'ES256', nonce: await this.freshNonce(), url };
    if (this.kid) header.kid = this.kid;
    else header.jwk = this.jwk;
    const bytes = payload === undefined ? new Uint8Array(0) : new TextEncoder().encode(JSON.stringify(payload));
    const jws = await new jose.FlattenedSign(bytes).setProtectedHeader(header).sign(this.key);
    return { url, body: JSON.stringify(jws) };
  }

  /** Sends a signed request (fresh, replayed or tampered) and keeps the server's next nonce. */
  async send(signed: SignedAcmeRequest): Promise<AcmeAnswer> {
    this.sent.push(signed);
    const res = await this.http(signed.url, { method: 'POST', body: signed.body });
    const nonce = res.headers['replay-nonce'];
    if (typeof nonce === 'string') this.nonce = nonce;
    return answer(res);
  }

  async post(url: string, payload: unknown): Promise<AcmeAnswer> {
    return this.send(await this.sign(url, payload));
  }

  private static expect(what: string, res: AcmeAnswer, ...statuses: number[]): AcmeAnswer {
    if (!statuses.includes(res.status)) throw new Error(`${what} answered HTTP ${res.status}: ${res.text}`);
    return res;
  }

  async createAccount(): Promise<string> {
    const res = RawAcmeClient.expect('newAccount', await this.post((await this.getDirectory()).newAccount, { termsOfServiceAgreed: true }), 200, 201);
    const location = res.headers.location;
    if (typeof location !== 'string') throw new Error('newAccount answered without a Location');
    this.kid = location;
    return location;
  }

  async thumbprint(): Promise<string> {
    return jose.calculateJwkThumbprint(this.jwk!, 'sha256');
  }

  /**
   * Orders a certificate for the client's own IP (or another identifier) and completes http-01
   * through `responder`, stopping before finalize: returns the order's URLs for the caller to
   * finalize (or not).
   */
  async readyOrder(responder: ChallengePublisher, identifier: AcmeIdentifier = { type: 'ip', value: this.options.localAddress }): Promise<{ orderUrl: string; finalize: string }> {
    const address = identifier.value;
    const created = RawAcmeClient.expect('newOrder', await this.post((await this.getDirectory()).newOrder, { identifiers: [identifier] }), 201);
    const order = created.body as { authorizations: string[]; finalize: string };
    const orderUrl = created.headers.location as string;
    for (const authzUrl of order.authorizations) {
      const authz = RawAcmeClient.expect('authorization', await this.post(authzUrl, undefined), 200).body as { challenges: Array<{ type: string; url: string; token: string }> };
      const challenge = authz.challenges.find((c) => c.type === 'http-01');
      if (!challenge) throw new Error(`no http-01 challenge for ${address}`);
      responder.publish(challenge.token, `${challenge.token}.${await this.thumbprint()}`);
      try {
        RawAcmeClient.expect('challenge', await this.post(challenge.url, {}), 200);
        await waitFor(
          `the http-01 challenge of ${address} to be valid`,
          async () => {
            const status = (RawAcmeClient.expect('authorization', await this.post(authzUrl, undefined), 200).body as { status: string }).status;
            if (status === 'invalid') throw new Error(`authorization of ${address} became invalid`);
            return status === 'valid';
          },
          { timeoutMs: 10_000, intervalMs: this.options.pollIntervalMs ?? 100 },
        );
      } finally {
        responder.remove(challenge.token);
      }
    }
    return { orderUrl, finalize: order.finalize };
  }

  /** The finalize request for a new key and CSR of the client's IP (or another identifier), signed but not sent. */
  async signFinalize(finalize: string, identifier: AcmeIdentifier = { type: 'ip', value: this.options.localAddress }): Promise<{ signed: SignedAcmeRequest; privateKeyPem: string }> {
    const names = identifier.type === 'ip' ? { ipAddresses: [identifier.value] } : { dnsNames: [identifier.value] };
    const { privateKeyPem, csrPem } = await createKeyAndCsr({ commonName: identifier.value, ...names }, 'ecdsa-p256');
    const der = Buffer.from(x509.PemConverter.decodeFirst(csrPem));
    return { signed: await this.sign(finalize, { csr: der.toString('base64url') }), privateKeyPem };
  }

  /** Polls the order until it is valid and returns its certificate URL. */
  async certificateUrl(orderUrl: string): Promise<string> {
    return waitFor(
      `order ${orderUrl} to be valid`,
      async () => {
        const order = RawAcmeClient.expect('order', await this.post(orderUrl, undefined), 200).body as { status: string; certificate?: string };
        if (order.status === 'invalid') throw new Error(`order ${orderUrl} became invalid`);
        return order.status === 'valid' ? order.certificate : undefined;
      },
      { timeoutMs: 10_000, intervalMs: this.options.pollIntervalMs ?? 100 },
    );
  }

  /** Finalizes with a CSR made beforehand, waits for the order and downloads the certificate chain (PEM). */
  async finalizeAndDownload(order: { orderUrl: string; finalize: string }, csrPem: string): Promise<string> {
    const der = Buffer.from(x509.PemConverter.decodeFirst(csrPem));
    RawAcmeClient.expect('finalize', await this.post(order.finalize, { csr: der.toString('base64url') }), 200);
    const certificate = await this.certificateUrl(order.orderUrl);
    return RawAcmeClient.expect('certificate', await this.post(certificate, undefined), 200).text;
  }
}
