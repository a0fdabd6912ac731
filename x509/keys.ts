// Key generation and PEM export on WebCrypto, shared by the lab CA and every simulated client.
import { subtle, x509 } from './x509.ts';

/** Seed 001 §6.3: RSA at least 2048 bits; ECDSA on P-256 or P-384. */
export const keyAlgorithms = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type KeyAlgorithm = (typeof keyAlgorithms)[number];

export { subtle };

export interface AlgorithmParams {
  generate: RsaHashedKeyGenParams | EcKeyGenParams;
  signing: Algorithm | EcdsaParams;
}

export function algorithmParams(algorithm: KeyAlgorithm): AlgorithmParams {
  switch (algorithm) {
    case 'ecdsa-p256':
      return { generate: { name: 'ECDSA', namedCurve: 'P-256' }, signing: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
    case 'ecdsa-p384':
      return { generate: { name: 'ECDSA', namedCurve: 'P-384' }, signing: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams };
    default: {
      const modulusLength = Number(algorithm.slice('rsa-'.length));
      return {
        generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        signing: { name: 'RSASSA-PKCS1-v1_5' },
      };
    }
  }
}

/** Generates an extractable key pair: the holder writes its own private key to disk, 0600. */
export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(algorithmParams(algorithm).generate, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Imports a PKCS#8 PEM private key for signing with the algorithm of the given certificate. */
export async function importPrivateKeyPem(pem: string, algorithm: KeyAlgorithm): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return subtle.importKey('pkcs8', der, algorithmParams(algorithm).generate, true, ['sign']);
}
