// Bootstrap certificate by ACME http-01 (RFC 8555) from the client's own loopback address: the
// identifier is that IP, and every request leaves from it (acme-flow.ts, the lean client).
import type { KeyObject } from 'node:crypto';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { clientTlsOptions } from '../../net/tls-policy.ts';
import { generateKeyObjects, type KeyAlgorithm } from '../../x509/keys.ts';
import { createKeyAndCsr, type KeyObjectAndCsr } from '../../x509/csr.ts';
import type { ChallengePublisher } from '../acme/http01-responder.ts';
import { AcmeFlow, ProvisioningRefusedError } from './acme-flow.ts';

export { ProvisioningRefusedError };

/** Keys made before the clock started (`--pre-made-keys`): the ACME account key and the bootstrap key with its CSR. */
export interface PreMadeBootstrapKeys {
  accountKey: KeyObject;
  bootstrap: KeyObjectAndCsr;
}

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
  preMade?: PreMadeBootstrapKeys;
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
  /** The same key as a key object: the client signs its X5C token with it without decoding the PEM. */
  privateKey: KeyObject;
  /** Leaf first, then the issuing intermediate. */
  certificateChainPem: string;
  timings: PhaseTimings;
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
  const agent = request.httpsAgent ?? clientHttpsAgent(request.address, request.trustedCaPem);
  try {
    const accountKey = request.preMade?.accountKey ?? (await generateKeyObjects('ecdsa-p256')).privateKey;
    const acme = new AcmeFlow({ directoryUrl: request.directoryUrl, trustedCaPem: request.trustedCaPem, address: request.address, agent, accountKey });
    const order = await timed(timings, 'acmeOrder', async () => {
      await acme.createAccount();
      return acme.createOrder([{ type: 'ip', value: request.address }]);
    });
    await timed(timings, 'challengeValidation', () => acme.validate(order, request.responder, request.address));
    return await timed(timings, 'finalize', async () => {
      const key = request.preMade?.bootstrap ?? (await createKeyAndCsr({ commonName: request.address, ipAddresses: [request.address] }, request.keyAlgorithm));
      const certificateChainPem = await acme.finalizeAndDownload(order, key.csrDer);
      return { privateKeyPem: key.privateKeyPem, privateKey: key.privateKey, certificateChainPem, timings };
    });
  } finally {
    if (!request.httpsAgent) agent.destroy();
  }
}
