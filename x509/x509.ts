// The one entry point to @peculiar/x509: its dependency injection needs the reflect polyfill
// loaded first, and it must use Node's WebCrypto. Import x509 from here, never directly.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
export const subtle = webcrypto.subtle as unknown as SubtleCrypto;

/** A certificate as @peculiar/x509 reads it (names, extensions, an issuer's side of signing): PEM or DER. */
export function decodeCertificate(input: string | BufferSource): x509.X509Certificate {
  return new x509.X509Certificate(input);
}
