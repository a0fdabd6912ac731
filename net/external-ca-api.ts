// The API of the external ("paid") CA the lab simulates (services/external-ca/), as both sides
// use it. Three kinds of caller, three ways in:
// - anyone, over plain HTTP: its root certificate and its CRL (both signed: nothing to protect);
// - the certificate management service (the provisioning service), over HTTPS: orders a
//   subordinate CA for a CSR, with a token signed by a key only the service holds (the CA knows
//   the public half). Such a token is short-lived, single-use and bound to the CSR it orders;
// - the CA's operator, over HTTPS: revokes, with a bearer token of its own. The service's
//   credential cannot revoke.
import { createHash, randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { request, type HttpResponse } from './https-client.ts';
import { HttpStatusError } from './http-status-error.ts';

export const EXTERNAL_CA_PATHS = {
  health: '/health',
  root: '/root.crt',
  /** DER (application/pkix-crl), what a CRL distribution point names. */
  crl: '/crl',
  crlPem: '/crl.pem',
  intermediates: '/api/v1/intermediates',
  revocations: '/api/v1/admin/revocations',
} as const;

/** A client token older than this is refused, whatever its exp says. */
export const CLIENT_TOKEN_MAX_AGE_SECONDS = 300;
/** The claim binding an order's token to its CSR: base64url SHA-256 of the CSR's DER. */
export const CSR_DIGEST_CLAIM = 'csr_sha256';

/** RFC 5280 CRLReason names the operator may give. */
export const EXTERNAL_REVOCATION_REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'] as const;
export type ExternalRevocationReason = (typeof EXTERNAL_REVOCATION_REASONS)[number];

/** The external CA answered with an error status; `detail` is its problem document's detail. */
export class ExternalCaError extends HttpStatusError {
  override name = 'ExternalCaError';
  constructor(
    status: number,
    readonly code: string,
    detail: string,
  ) {
    super(status, detail, `the external CA answered HTTP ${status} ${code}: ${detail}`);
  }
}

function problemOf(res: HttpResponse): ExternalCaError {
  try {
    const problem = res.json<{ title?: string; detail?: string }>();
    return new ExternalCaError(res.status, problem.title ?? 'error', problem.detail ?? res.text());
  } catch {
    return new ExternalCaError(res.status, 'error', res.text().slice(0, 200));
  }
}

export function csrDigest(csrPem: string): string {
  const der = Buffer.from(csrPem.replace(/-----(BEGIN|END) CERTIFICATE REQUEST-----/g, '').replace(/\s+/g, ''), 'base64');
  return createHash('sha256').update(der).digest('base64url');
}

/** A client's token for one request to `audience` (the full URL), ES256 with the client's key. */
export async function clientToken(input: { privateJwk: jose.JWK; issuer: string; audience: string; csrPem?: string }): Promise<string> {
  const key = await jose.importJWK(input.privateJwk, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT(input.csrPem ? { [CSR_DIGEST_CLAIM]: csrDigest(input.csrPem) } : {})
    .setProtectedHeader({ alg: 'ES256', kid: input.privateJwk.kid!, typ: 'JWT' })
    .setIssuer(input.issuer)
    .setSubject(input.issuer)
    .setAudience(input.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .setJti(randomUUID())
    .sign(key);
}

export interface OrderedIntermediate {
  certificatePem: string;
  /** The new intermediate, then the external root. */
  chainPem: string;
  serial: string;
}

/** Orders a subordinate CA (path length 0) for `csrPem`, authenticated by the client's key. */
export async function orderIntermediate(input: { apiUrl: string; rootPem: string; privateJwk: jose.JWK; client: string; csrPem: string }): Promise<OrderedIntermediate> {
  const url = `${input.apiUrl}${EXTERNAL_CA_PATHS.intermediates}`;
  const token = await clientToken({ privateJwk: input.privateJwk, issuer: input.client, audience: url, csrPem: input.csrPem });
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ csr: input.csrPem }),
    ca: input.rootPem,
  });
  if (res.status !== 201) throw problemOf(res);
  return res.json<OrderedIntermediate>();
}

/** A revocation request with whatever bearer credential the caller holds (the operator's token, or not). */
export function requestRevocation(input: { apiUrl: string; rootPem: string; bearer: string; serial: string; reason: string }): Promise<HttpResponse> {
  return request(`${input.apiUrl}${EXTERNAL_CA_PATHS.revocations}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${input.bearer}` },
    body: JSON.stringify({ serial: input.serial, reason: input.reason }),
    ca: input.rootPem,
  });
}

/** The operator revokes a certificate the external CA issued. */
export async function revokeAtExternalCa(input: { apiUrl: string; rootPem: string; operatorToken: string; serial: string; reason: ExternalRevocationReason }): Promise<void> {
  const res = await requestRevocation({ ...input, bearer: input.operatorToken });
  if (res.status !== 200) throw problemOf(res);
}

/** The external CA's CRL as PEM, from its public listener (DER on the wire, as a CDP serves it). */
export async function fetchExternalCrl(crlUrl: string, timeoutMs = 5000): Promise<string> {
  const res = await request(crlUrl, { timeoutMs });
  if (res.status !== 200) throw new ExternalCaError(res.status, 'crl-unavailable', `GET ${crlUrl} answered HTTP ${res.status}`);
  return crlBodyToPem(res.body);
}

/** A CRL body as served, DER or PEM, as PEM ("X509 CRL", the label OpenSSL reads). */
export function crlBodyToPem(body: Buffer): string {
  const text = body.toString('latin1');
  if (text.includes('-----BEGIN')) return body.toString('utf8');
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN X509 CRL-----\n${lines.join('\n')}\n-----END X509 CRL-----\n`;
}
