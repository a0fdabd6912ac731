// A renewal token (what `step ca renew --mtls=false` sends): a JWT signed with the certificate's
// own key, the certificate and its intermediates in its x5cInsecure header (step-ca verifies
// the chain up to its root, ignoring expiry). The service terminates TLS, so renewal
// through it cannot use the mutual-TLS form.
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { parseCertificate, splitPemChain } from '../../x509/certificates.ts';

/** `caOrigin`: the origin step-ca's audiences are built from (https://<its DNS name>). */
export async function renewalToken(current: { privateKeyPem: string; certificateChainPem: string }, caOrigin: string): Promise<string> {
  const chain = splitPemChain(current.certificateChainPem).map((pem) => parseCertificate(pem));
  const leaf = chain[0]!;
  const alg = leaf.publicKey.asymmetricKeyType === 'ec' ? (leaf.publicKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256') : 'RS256';
  const now = Math.floor(Date.now() / 1000);
  const subject = /CN=([^\n,]+)/.exec(leaf.subject)?.[1] ?? '';
  return new jose.SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT', x5cInsecure: chain.map((c) => c.raw.toString('base64')) })
    .setIssuer('step-ca-client/1.0')
    .setSubject(subject)
    .setAudience(`${caOrigin}/1.0/renew`)
    .setIssuedAt(now)
    .setNotBefore(now - 30)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(await jose.importPKCS8(current.privateKeyPem, alg));
}
