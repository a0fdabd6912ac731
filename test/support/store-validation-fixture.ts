// A test PKI (root, intermediate, device leaves, CRLs) and the checks every store-validation test
// makes of a failure: its reason, its message, and no secret in it.
import assert from 'node:assert/strict';
import { createIntermediateCa, createRootCa, issueLeaf, type IssuedCertificate, type LeafRequest } from '../../x509/certificate-authority.ts';
import { algorithmParams } from '../../x509/keys.ts';
import { x509 } from '../../x509/x509.ts';
import { validateCertificateStore, type StoreContents, type ValidationInput, type ValidationReason, type ValidationResult } from '../../simulators/client/certificate-validation.ts';
import { deviceSan } from '../../simulators/device/reveos-device.ts';

export const DAY = 24 * 3600 * 1000;
export const DEVICE = 'RVS-AB12CD34';

export interface Pki {
  root: IssuedCertificate;
  intermediate: IssuedCertificate;
}

export async function makePki(algorithm: 'ecdsa-p256' | 'rsa-2048' = 'ecdsa-p256', intermediateDays = 365): Promise<Pki> {
  const root = await createRootCa({ commonName: 'Test Root', organization: 'ecm-lab', algorithm, validityDays: 3650 });
  const intermediate = await createIntermediateCa(root, { commonName: 'Test Intermediate', organization: 'ecm-lab', algorithm, validityDays: intermediateDays });
  return { root, intermediate };
}

export function deviceLeaf(pki: Pki, overrides: Partial<LeafRequest> = {}): Promise<IssuedCertificate> {
  return issueLeaf(pki.intermediate, { commonName: DEVICE, uris: [deviceSan(DEVICE)], extendedKeyUsages: ['clientAuth'], ...overrides });
}

export function storeOf(pki: Pki, leaf: IssuedCertificate, extra: Partial<StoreContents> = {}): StoreContents {
  return {
    certificateChainPem: `${leaf.certificatePem}\n${pki.intermediate.certificatePem}\n`,
    privateKeyPem: leaf.privateKeyPem,
    caPem: pki.root.certificatePem,
    keyFileMode: 0o100600,
    ...extra,
  };
}

export async function makeCrl(issuer: IssuedCertificate, serials: string[], options: { nextUpdate?: boolean; signer?: IssuedCertificate } = {}): Promise<string> {
  const signer = options.signer ?? issuer;
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subject,
    thisUpdate: new Date(Date.now() - 60_000),
    ...(options.nextUpdate === false ? {} : { nextUpdate: new Date(Date.now() + DAY) }),
    signingAlgorithm: algorithmParams(signer.algorithm).signing,
    signingKey: signer.keys.privateKey,
    entries: serials.map((serialNumber) => ({ serialNumber })),
  });
  return crl.toString('pem');
}

/** Failure messages go to logs: no PEM armour and no run of any PEM body may appear in them. */
export function assertNoSecrets(message: string, pems: string[]): void {
  assert.ok(!message.includes('-----'), `PEM armour in: ${message}`);
  for (const pem of pems) {
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    for (let i = 0; i + 16 <= body.length; i += 8) {
      assert.ok(!message.includes(body.slice(i, i + 16)), `PEM content in: ${message}`);
    }
  }
}

export function expectFailure(result: ValidationResult, reason: ValidationReason, pattern?: RegExp, secrets: string[] = []): string {
  assert.equal(result.valid, false, 'expected the store to be invalid');
  if (result.valid) throw new Error('unreachable');
  assert.equal(result.reason, reason, `reason (message: ${result.message})`);
  if (pattern) assert.match(result.message, pattern);
  assertNoSecrets(result.message, secrets);
  return result.message;
}

// Set by setUpPki (a test file's `before`): ES module bindings, so the tests see the values.
export let pki: Pki;
export let leaf: IssuedCertificate;
export let now: Date;
export const validate = (store: StoreContents, extra: Partial<ValidationInput> = {}) => validateCertificateStore({ store, deviceId: DEVICE, now, ...extra });
export const secretsOf = (...certs: IssuedCertificate[]) => certs.flatMap((c) => [c.certificatePem, c.privateKeyPem]);

/** One PKI and device leaf per test file, and the device's clock. */
export async function setUpPki(): Promise<void> {
  pki = await makePki();
  leaf = await deviceLeaf(pki);
  now = new Date(Math.floor(Date.now() / 1000) * 1000); // X.509 times have whole seconds
}
