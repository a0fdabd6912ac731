// The provisioning service's own client of step-ca: one-time tokens signed with the service's
// JWK provisioner key authorize signing (bootstrap certificates) and revocation.
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { request, type HttpResponse } from '../../net/https-client.ts';
import { chainFromSignResponse, fetchCrlPem, stepCaAgent, StepCaError, stepCaErrorDetail } from '../../net/step-ca-api.ts';

export interface StepCaClientOptions {
  caUrl: string;
  rootPem: string;
  /** First DNS name of step-ca: token audiences are https://<name>/1.0/<endpoint>. */
  audienceHost: string;
  provisioner: string;
  privateJwk: jose.JWK;
}

export { StepCaError };

/** RFC 5280 CRLReason codes accepted by the admin API. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

/** step-ca identifies certificates by the decimal form of their serial. */
export function serialToDecimal(hexSerial: string): string {
  return BigInt(`0x${hexSerial.replace(/[^0-9a-f]/gi, '')}`).toString(10);
}

export class StepCaClient {
  private key: Promise<CryptoKey | Uint8Array> | undefined;

  constructor(private readonly options: StepCaClientOptions) {
    this.agent = stepCaAgent(options.rootPem);
  }

  private async token(endpoint: 'sign' | 'revoke', subject: string, extra: Record<string, unknown> = {}): Promise<string> {
    this.key ??= jose.importJWK(this.options.privateJwk, 'ES256') as Promise<CryptoKey | Uint8Array>;
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT(extra)
      .setProtectedHeader({ alg: 'ES256', kid: this.options.privateJwk.kid!, typ: 'JWT' })
      .setIssuer(this.options.provisioner)
      .setSubject(subject)
      .setAudience(`https://${this.options.audienceHost}/1.0/${endpoint}`)
      .setIssuedAt(now)
      .setNotBefore(now - 30)
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(await this.key);
  }

  private readonly agent: ReturnType<typeof stepCaAgent>;

  private async post(path: string, body: unknown): Promise<HttpResponse> {
    const res = await request(`${this.options.caUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ca: this.options.rootPem,
      agent: this.agent,
    });
    if (res.status >= 300) throw new StepCaError(res.status, stepCaErrorDetail(res.text()));
    return res;
  }

  /** Signs a CSR with the service's provisioner; returns the chain PEM, leaf first. Lifetime: the provisioner's default unless given. */
  async sign(csrPem: string, subject: string, sans: string[], lifetimeSeconds?: number): Promise<string> {
    const ott = await this.token('sign', subject, { sans });
    return chainFromSignResponse(await this.post('/1.0/sign', { csr: csrPem, ott, ...(lifetimeSeconds ? { notAfter: `${lifetimeSeconds}s` } : {}) }));
  }

  async revoke(hexSerial: string, reason: RevocationReason, note: string): Promise<void> {
    const serial = serialToDecimal(hexSerial);
    const ott = await this.token('revoke', serial);
    await this.post('/1.0/revoke', { serial, ott, reasonCode: REVOCATION_REASONS[reason], reason: note, passive: true });
  }

  /** The issuing CA's current CRL, PEM. */
  crlPem(): Promise<string> {
    return fetchCrlPem(this.options.caUrl, this.options.rootPem, this.agent);
  }
}
