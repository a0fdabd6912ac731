// Bootstrap certificate by ACME http-01 (RFC 8555) with acme-client, from the client's own
// loopback address: the identifier is that IP, and every request leaves from it.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { clientTlsOptions } from '../../net/tls-policy.ts';
import { performance } from 'node:perf_hooks';
import * as acme from 'acme-client';
import { HttpStatusError } from '../../net/http-status-error.ts';
import { generateKeyPair, privateKeyToPem, type KeyAlgorithm } from '../../x509/keys.ts';
import type { ChallengePublisher } from '../acme/http01-responder.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { request as httpsRequest } from '../../net/https-client.ts';

export interface AcmeBootstrapRequest {
  directoryUrl: string;
  /** PEM of the CA that serves the ACME API over HTTPS. */
  trustedCaPem: string;
  /** The client's own loopback address: ACME identifier and source address. */
  address: string;
  responder: ChallengePublisher;
  keyAlgorithm: KeyAlgorithm;
  /** A keep-alive agent the caller owns (and reuses for its X5C request); one of its own otherwise. */
  httpsAgent?: https.Agent;
}

/** A keep-alive HTTPS agent bound to a client's address and trust anchor. */
export function clientHttpsAgent(address: string, trustedCaPem: string): https.Agent {
  return new https.Agent({ keepAlive: true, ...clientTlsOptions({ ca: trustedCaPem, localAddress: address }) } as https.AgentOptions);
}

export interface PhaseTimings {
  /** Milliseconds per phase, monotonic clock. */
  [phase: string]: number;
}

export interface BootstrapCertificate {
  privateKeyPem: string;
  /** Leaf first, then the issuing intermediate. */
  certificateChainPem: string;
  timings: PhaseTimings;
}

/** The parts of acme-client's HttpClient the lab adapts (it has no public hooks for them). */
interface AcmeHttpClient {
  accountKey: Buffer | KeyObject;
  request(url: string, method: string, opts?: object): Promise<{ headers: Record<string, unknown> }>;
  getNonce(): Promise<string>;
  directoryCache: unknown;
  directoryTimestamp: number;
}

/**
 * acme-client sends every request through one shared axios instance and offers no per-client
 * agent; the simulated clients each need their own source address and trust, so the agents
 * are passed per request by wrapping the client's HttpClient.request.
 *
 * It also asks newNonce by HEAD before every signed request: half of a device's ACME requests,
 * each one forwarded by the gate to step-ca (profile in BENCHMARKS.md). RFC 8555 §7.2 lets a
 * client use the Replay-Nonce of the server's previous answer instead, as most clients do, so
 * the nonce of each answer is kept for the next signed request; newNonce is asked only when
 * there is none (the first request). A badNonce answer still carries a fresh one, which
 * acme-client retries with.
 *
 * And it signs every request with the account key as PEM, which OpenSSL 3 decodes anew each
 * time: 0.53 ms a signature against 0.03 ms with the key decoded once (an eighth of the lab's
 * CPU at the knee, profile in BENCHMARKS.md). The key object signs the same JWS.
 */
function bindClientAgents(client: acme.Client, agents: { http: http.Agent; https: https.Agent }): AcmeHttpClient {
  const httpClient = (client as unknown as { http: AcmeHttpClient }).http;
  httpClient.accountKey = createPrivateKey(httpClient.accountKey as Buffer);
  const original = httpClient.request.bind(httpClient);
  const askNonce = httpClient.getNonce.bind(httpClient);
  let nonce: string | undefined;
  httpClient.request = async (url, method, opts = {}) => {
    const res = await original(url, method, { ...opts, httpAgent: agents.http, httpsAgent: agents.https });
    // An answer without one (the directory) leaves the kept nonce: it was never sent.
    const fresh = res.headers['replay-nonce'];
    if (typeof fresh === 'string') nonce = fresh;
    return res;
  };
  httpClient.getNonce = async () => {
    const kept = nonce;
    nonce = undefined;
    if (kept) return kept;
    const asked = await askNonce();
    nonce = undefined; // the newNonce answer's own header is the nonce just returned
    return asked;
  };
  return httpClient;
}

/** The provisioning service said no (OFF, not white-listed): a reason the device reports and retries on. */
export class ProvisioningRefusedError extends HttpStatusError {
  override name = 'ProvisioningRefusedError';
  constructor(status: number, detail: string) {
    super(status, detail, `provisioning refused (HTTP ${status}): ${detail}`);
  }
}

/**
 * acme-client reports a refused directory as a bare status code; the gate's RFC 7807 problem
 * document says why, so the directory is read here first and its refusal surfaced as is.
 */
async function checkDirectory(request: AcmeBootstrapRequest, agent: https.Agent): Promise<unknown> {
  const res = await httpsRequest(request.directoryUrl, { ca: request.trustedCaPem, localAddress: request.address, agent });
  if (res.status === 200) return res.json();
  let detail = res.text();
  try {
    detail = res.json<{ detail?: string }>().detail ?? detail;
  } catch {
    // not a problem document: keep the raw text
  }
  throw new ProvisioningRefusedError(res.status, detail);
}

async function timed<T>(timings: PhaseTimings, phase: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    timings[phase] = performance.now() - start;
  }
}

export async function obtainBootstrapCertificate(request: AcmeBootstrapRequest): Promise<BootstrapCertificate> {
  const timings: PhaseTimings = {};
  const agents = {
    http: new http.Agent({ keepAlive: true, localAddress: request.address } as http.AgentOptions),
    https: request.httpsAgent ?? clientHttpsAgent(request.address, request.trustedCaPem),
  };
  try {
    const accountKey = await privateKeyToPem((await generateKeyPair('ecdsa-p256')).privateKey);
    const client = new acme.Client({ directoryUrl: request.directoryUrl, accountKey, backoffMin: 50, backoffMax: 1000, backoffAttempts: 30 });
    const httpClient = bindClientAgents(client, agents);

    const order = await timed(timings, 'acmeOrder', async () => {
      // The directory just read is the one acme-client would fetch again: it keeps this one.
      httpClient.directoryCache = await checkDirectory(request, agents.https);
      httpClient.directoryTimestamp = Math.floor(Date.now() / 1000);
      await client.createAccount({ termsOfServiceAgreed: true });
      return client.createOrder({ identifiers: [{ type: 'ip', value: request.address }] });
    });

    await timed(timings, 'challengeValidation', async () => {
      const [authorization] = await client.getAuthorizations(order);
      const challenge = authorization?.challenges.find((c) => c.type === 'http-01');
      if (!authorization || !challenge) throw new Error(`the ACME server offered no http-01 challenge for ${request.address}`);
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      await request.responder.publish(challenge.token, keyAuthorization);
      try {
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(challenge);
      } finally {
        request.responder.remove(challenge.token);
      }
    });

    return await timed(timings, 'finalize', async () => {
      const { privateKeyPem, csrPem } = await createKeyAndCsr(
        { commonName: request.address, ipAddresses: [request.address] },
        request.keyAlgorithm,
      );
      const finalized = await client.finalizeOrder(order, csrPem);
      const certificateChainPem = await client.getCertificate(finalized);
      return { privateKeyPem, certificateChainPem, timings };
    });
  } finally {
    agents.http.destroy();
    if (!request.httpsAgent) agents.https.destroy();
  }
}
