// What an attacker sends to get a certificate it must not have, on each issuing path, reported as
// an outcome instead of thrown: attack scenarios assert the refusal and look up its logged cause.
// Nothing here takes a shortcut a real client could not: plain HTTP or HTTPS from the attacker's
// own address, tokens signed with keys the attacker holds.
import { request, type HttpResponse } from '../../net/https-client.ts';
import { stepCaErrorDetail } from '../../net/step-ca-api.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { signX5cToken } from '../client/x5c-sign.ts';

export interface AttemptOutcome {
  status: number;
  /** The refusal code in the service's answer ({"error": code}), when it gave one. */
  code?: string;
  /** The answer's own words: the service's message, step-ca's, or the ACME problem's detail. */
  detail: string;
  /** What was issued, if the attempt succeeded. */
  certificatePem?: string;
}

export function outcomeOf(res: HttpResponse, certificate?: (res: HttpResponse) => string): AttemptOutcome {
  const text = res.text();
  let body: { error?: unknown; message?: unknown; crt?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // PEM or plain text
  }
  const ok = res.status >= 200 && res.status < 300;
  return {
    status: res.status,
    code: typeof body.error === 'string' ? body.error : undefined,
    detail: typeof body.message === 'string' ? body.message : stepCaErrorDetail(text),
    certificatePem: ok ? (certificate ? certificate(res) : text) : undefined,
  };
}

/** A CSR for `commonName` (and, if given, IP SANs) sent to the bootstrap endpoint (plain HTTP, FR-PS-004). */
export async function csrToBootstrapEndpoint(input: { insecureUrl: string; commonName: string; from: string; ipAddresses?: string[] }): Promise<AttemptOutcome> {
  const { csrPem } = await createKeyAndCsr({ commonName: input.commonName, ipAddresses: input.ipAddresses }, 'ecdsa-p256');
  const res = await request(`${input.insecureUrl}/api/v1/bootstrap`, { method: 'POST', headers: { 'content-type': 'application/pkcs10' }, body: csrPem, localAddress: input.from });
  return outcomeOf(res);
}

/** Asks the service to generate a key and a bootstrap certificate for `commonName` (seed 004 serverkeygen). */
export async function serverKeyGen(input: { url: string; rootPem?: string; commonName: string; from: string }): Promise<AttemptOutcome> {
  const res = await request(`${input.url}/api/v1/bootstrap/serverkeygen`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ commonName: input.commonName }),
    ca: input.rootPem,
    localAddress: input.from,
  });
  return outcomeOf(res, (r) => r.json<{ certificateChainPem: string }>().certificateChainPem);
}

export interface X5cCredential {
  certificateChainPem: string;
  privateKeyPem: string;
}

/** An X5C one-time token signed with `credential`'s key (whatever certificate it is), naming `identity` and `sans`. */
export function x5cToken(input: { credential: X5cCredential; provisioner: string; audience: string; identity: string; sans: string[] }): Promise<string> {
  return signX5cToken({ provisioner: input.provisioner, audience: input.audience, bootstrap: input.credential, commonName: input.identity, sans: input.sans });
}

/** POST /1.0/sign with a token (fresh or replayed) and a new CSR for `identity`. */
export async function x5cSign(input: { caUrl: string; rootPem: string; ott: string; identity: string; sans: string[]; from: string }): Promise<AttemptOutcome> {
  const { csrPem } = await createKeyAndCsr({ commonName: input.identity, uris: input.sans.filter((s) => s.includes(':')) }, 'ecdsa-p256');
  const res = await request(`${input.caUrl}/1.0/sign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ csr: csrPem, ott: input.ott }),
    ca: input.rootPem,
    localAddress: input.from,
  });
  return outcomeOf(res, (r) => r.json<{ crt: string }>().crt);
}
