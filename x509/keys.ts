// Key generation and PEM export, shared by the lab CA and every simulated client: on WebCrypto
// for the CA (the X.509 library signs with CryptoKeys), on Node's key objects for the clients.
import { generateKeyPair as generateNodeKeyPair, type KeyObject } from 'node:crypto';
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

/** Node's names for a lab key algorithm: the curve, or the modulus. */
function nodeKeyParams(algorithm: KeyAlgorithm): { type: 'ec'; namedCurve: string } | { type: 'rsa'; modulusLength: number } {
  if (algorithm === 'ecdsa-p256') return { type: 'ec', namedCurve: 'P-256' };
  if (algorithm === 'ecdsa-p384') return { type: 'ec', namedCurve: 'P-384' };
  return { type: 'rsa', modulusLength: Number(algorithm.slice('rsa-'.length)) };
}

/**
 * A key pair as Node's key objects, made by OpenSSL on the thread pool: a fraction of the CPU of
 * WebCrypto's key and its PEM export, and a key object signs without being decoded again (an
 * OpenSSL 3 decode of a PEM or DER key costs 0.35 ms, ten times an ECDSA signature).
 */
export function generateKeyObjects(algorithm: KeyAlgorithm): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const params = nodeKeyParams(algorithm);
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) => (err ? reject(err) : resolve({ privateKey, publicKey }));
    if (params.type === 'ec') generateNodeKeyPair('ec', { namedCurve: params.namedCurve }, done);
    else generateNodeKeyPair('rsa', { modulusLength: params.modulusLength, publicExponent: 0x10001 }, done);
  });
}

/** The digest a lab key signs with (seed 001 §6.3: SHA-256 for P-256 and RSA, SHA-384 for P-384). */
export function signingHash(algorithm: KeyAlgorithm): 'sha256' | 'sha384' {
  return algorithm === 'ecdsa-p384' ? 'sha384' : 'sha256';
}

/** PKCS#8 PEM of a key object: what a holder writes to its store (0600). */
export function keyObjectToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}
