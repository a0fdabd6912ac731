// Operational certificate from step-ca's X5C provisioner: a one-time token signed with the
// bootstrap key, carrying the bootstrap chain in its x5c header, authorizes POST /1.0/sign.
import { randomUUID } from 'node:crypto';
import type https from 'node:https';
import { performance } from 'node:perf_hooks';
import * as jose from 'jose';
import { HttpStatusError } from '../../net/http-status-error.ts';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import { request } from '../../net/https-client.ts';
import { chainFromSignResponse, stepCaErrorDetail } from '../../net/step-ca-api.ts';
import { certificateDer, certificatePublicKey, splitPemChain } from '../../x509/certificates.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';

export interface X5cSignRequest {
  caUrl: string;
  trustedCaPem: string;
  provisioner: string;
  /** e.g. https://localhost/1.0/sign#x5c/devices: the fragment selects the provisioner. */
  audience: string;
  bootstrap: { privateKeyPem: string; certificateChainPem: string };
  /** Certificate subject CN and token subject. */
  commonName: string;
  /** SANs of the operational certificate, e.g. urn:ecm-lab:device:<id>. */
  sans: string[];
  keyAlgorithm: KeyAlgorithm;
  localAddress?: string;
  /** A keep-alive agent for the request (the connection the client's ACME requests used); a fresh connection otherwise. */
  agent?: https.Agent;
  /** Requested lifetime; step-ca applies the provisioner's default when absent. */
  lifetimeSeconds?: number;
}

export interface OperationalCertificate {
  privateKeyPem: string;
  certificateChainPem: string;
  durationMs: number;
}

export class CaRefusalError extends HttpStatusError {
  override name = 'CaRefusalError';
  constructor(status: number, detail: string) {
    super(status, detail, `step-ca refused the request (HTTP ${status}): ${detail}`);
  }
}

/** JWS algorithm for a key, from the bootstrap certificate's public key (Node's native parser: this runs once per device). */
function jwsAlgorithm(certificatePem: string): string {
  const key = certificatePublicKey(certificatePem);
  if (key.asymmetricKeyType === 'ec') return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256';
  return 'RS256';
}

export async function signX5cToken(
  input: Pick<X5cSignRequest, 'provisioner' | 'audience' | 'bootstrap' | 'commonName' | 'sans'> & { ttlSeconds?: number },
): Promise<string> {
  const chain = splitPemChain(input.bootstrap.certificateChainPem);
  if (chain.length === 0) throw new Error('the bootstrap certificate chain holds no certificate');
  const alg = jwsAlgorithm(chain[0]!);
  const key = await jose.importPKCS8(input.bootstrap.privateKeyPem, alg);
  const x5c = chain.map((pem) => certificateDer(pem).toString('base64'));
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ sans: input.sans })
    .setProtectedHeader({ alg, typ: 'JWT', x5c })
    .setIssuer(input.provisioner)
    .setSubject(input.commonName)
    .setAudience(input.audience)
    .setIssuedAt(now)
    .setNotBefore(now - 30)
    .setExpirationTime(now + (input.ttlSeconds ?? 300))
    .setJti(randomUUID())
    .sign(key);
}

export async function obtainOperationalCertificate(input: X5cSignRequest): Promise<OperationalCertificate> {
  const start = performance.now();
  const { privateKeyPem, csrPem } = await createKeyAndCsr({ commonName: input.commonName, uris: input.sans }, input.keyAlgorithm);
  const ott = await signX5cToken(input);
  const body: Record<string, unknown> = { csr: csrPem, ott };
  if (input.lifetimeSeconds) body.notAfter = `${input.lifetimeSeconds}s`;
  const res = await request(`${input.caUrl}/1.0/sign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ca: input.trustedCaPem,
    localAddress: input.localAddress,
    agent: input.agent,
  });
  if (res.status !== 201 && res.status !== 200) throw new CaRefusalError(res.status, stepCaErrorDetail(res.text()));
  const certificateChainPem = chainFromSignResponse(res);
  return { privateKeyPem, certificateChainPem, durationMs: performance.now() - start };
}
