// The key the provisioning service signs step-ca one-time tokens with (its JWK provisioners on
// both authorities: bootstrap endpoint, serverkeygen, revocation). Made in the service's own
// process; only the public half ever leaves it.
import * as jose from 'jose';

export interface ServiceSigningKey {
  /** Name of the JWK provisioner in ca.json. */
  provisioner: string;
  kid: string;
  publicJwk: jose.JWK;
  privateJwk: jose.JWK;
}

/** The key the provisioning service signs step-ca one-time tokens with (sign, revoke). */
export async function createServiceSigningKey(provisioner = 'provisioning-service'): Promise<ServiceSigningKey> {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const publicJwk = await jose.exportJWK(publicKey);
  const kid = await jose.calculateJwkThumbprint(publicJwk);
  const privateJwk = await jose.exportJWK(privateKey);
  return {
    provisioner,
    kid,
    publicJwk: { ...publicJwk, kid, use: 'sig', alg: 'ES256' },
    privateJwk: { ...privateJwk, kid, use: 'sig', alg: 'ES256' },
  };
}
