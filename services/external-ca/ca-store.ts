// What the simulated external CA keeps: its root (made at its first start, the key 0600 in its own
// directory and in no other process), what it issued and revoked, and its signed CRL.
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { certifySubordinateCsr, createRootCa, finish, issueLeaf, type IssuedCertificate } from '../../x509/certificate-authority.ts';
import { createCrl } from '../../x509/crl-signing.ts';
import type { ExternalRevocationReason } from '../../net/external-ca-api.ts';
import { keyAlgorithmOf, normalizeSerial, parseCertificate } from '../../x509/certificates.ts';
import { importPrivateKeyPem } from '../../x509/keys.ts';
import { decodeCertificate, x509 } from '../../x509/x509.ts';
import { EXTERNAL_CA_FILES, type ExternalCaConfig } from './process-config.ts';

/** A request the CA refuses: the status and problem code it answers with. */
export class CaRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface IssuedRecord {
  serial: string;
  subject: string;
  notAfter: string;
  client: string;
  issuedAt: string;
}

interface RevokedRecord {
  serial: string;
  reason: ExternalRevocationReason;
  revokedAt: string;
}

interface State {
  issued: IssuedRecord[];
  revoked: RevokedRecord[];
  crlNumber: number;
}

const REASONS: Record<ExternalRevocationReason, x509.X509CrlReason> = {
  unspecified: x509.X509CrlReason.unspecified,
  keyCompromise: x509.X509CrlReason.keyCompromise,
  cACompromise: x509.X509CrlReason.cACompromise,
  affiliationChanged: x509.X509CrlReason.affiliationChanged,
  superseded: x509.X509CrlReason.superseded,
  cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
  privilegeWithdrawn: x509.X509CrlReason.privilegeWithdrawn,
};

/** Seed 001 §6.3 for the subordinates it signs: RSA of at least 2048 bits, or ECDSA P-256/P-384. */
const ACCEPTED_KEYS = /^(ecdsa-p256|ecdsa-p384|rsa-(2048|3072|4096))$/;
const YEAR_MS = 365 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

export class ExternalCaStore {
  readonly #dir: string;
  readonly #config: ExternalCaConfig;
  readonly #root: IssuedCertificate;
  readonly #state: State;
  #crl: { der: Buffer; pem: string; signedAt: number } | undefined;

  private constructor(dir: string, config: ExternalCaConfig, root: IssuedCertificate, state: State) {
    this.#dir = dir;
    this.#config = config;
    this.#root = root;
    this.#state = state;
  }

  static async open(dir: string, config: ExternalCaConfig): Promise<ExternalCaStore> {
    const file = (name: keyof typeof EXTERNAL_CA_FILES) => path.join(dir, EXTERNAL_CA_FILES[name]);
    let root: IssuedCertificate;
    if (existsSync(file('rootKey'))) {
      const certificate = decodeCertificate(readFileSync(file('rootCert'), 'utf8'));
      const privateKey = await importPrivateKeyPem(readFileSync(file('rootKey'), 'utf8'), config.keyAlgorithm);
      const publicKey = await certificate.publicKey.export(privateKey.algorithm as never, ['verify']);
      root = await finish(certificate, { privateKey, publicKey }, config.keyAlgorithm);
    } else {
      root = await createRootCa({ commonName: `${config.organization} Root CA`, organization: config.organization, algorithm: config.keyAlgorithm, validityDays: config.rootValidityDays });
      writeFileSync(file('rootKey'), root.privateKeyPem + '\n', { mode: 0o600 });
      writeFileSync(file('rootCert'), root.certificatePem + '\n');
    }
    const state: State = existsSync(file('state')) ? (JSON.parse(readFileSync(file('state'), 'utf8')) as State) : { issued: [], revoked: [], crlNumber: 0 };
    return new ExternalCaStore(dir, config, root, state);
  }

  get rootPem(): string {
    return this.#root.certificatePem;
  }

  get rootSubject(): string {
    return this.#root.certificate.subject;
  }

  get crlUrl(): string {
    return `http://${this.#config.host}:${this.#config.publicPort}/crl`;
  }

  /** The API listener's certificate, from the root, for this process's lifetime (its key stays here). */
  async tlsCredentials(): Promise<{ cert: string; key: string }> {
    const leaf = await issueLeaf(this.#root, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], extendedKeyUsages: ['serverAuth'], notAfter: new Date(Date.now() + YEAR_MS) });
    return { cert: `${leaf.certificatePem}\n${this.#root.certificatePem}\n`, key: leaf.privateKeyPem };
  }

  /** A subordinate CA for the CSR of `client`: path length 0, the CA's CRL as its distribution point. */
  async orderSubordinate(csrPem: string, client: string): Promise<{ certificatePem: string; chainPem: string; serial: string }> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (err) {
      throw new CaRefusal(400, 'bad-csr', `the CSR does not parse: ${(err as Error).message}`);
    }
    const verified = await csr.verify().catch(() => false);
    if (!verified) throw new CaRefusal(400, 'bad-csr-signature', 'the CSR signature does not verify: no proof of possession of its key');
    let key: string;
    try {
      key = keyAlgorithmOf(createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' }));
    } catch (err) {
      throw new CaRefusal(400, 'bad-key', `the CSR's public key does not parse: ${(err as Error).message}`);
    }
    if (!ACCEPTED_KEYS.test(key)) throw new CaRefusal(400, 'bad-key', `a ${key} key is not accepted: RSA of at least 2048 bits, or ECDSA P-256/P-384`);
    if (!/CN=/.test(csr.subject)) throw new CaRefusal(400, 'bad-subject', 'the CSR subject has no common name');
    const certificate = await certifySubordinateCsr(this.#root, csr, { notAfter: new Date(Date.now() + this.#config.intermediateValidityDays * DAY_MS), crlDistributionPoints: [this.crlUrl] });
    const serial = normalizeSerial(certificate.serialNumber);
    this.#state.issued.push({ serial, subject: certificate.subject, notAfter: certificate.notAfter.toISOString(), client, issuedAt: new Date().toISOString() });
    this.#save();
    const certificatePem = certificate.toString('pem');
    return { certificatePem, chainPem: `${certificatePem}\n${this.#root.certificatePem}\n`, serial };
  }

  /** Revokes what this CA issued; the next CRL lists it. */
  revoke(serial: string, reason: ExternalRevocationReason): RevokedRecord & { subject: string } {
    const wanted = normalizeSerial(serial);
    const issued = this.#state.issued.find((r) => r.serial === wanted);
    if (!issued) throw new CaRefusal(404, 'unknown-serial', `this CA issued no certificate with serial ${wanted}`);
    if (this.#state.revoked.some((r) => r.serial === wanted)) throw new CaRefusal(409, 'already-revoked', `serial ${wanted} is already revoked`);
    const record: RevokedRecord = { serial: wanted, reason, revokedAt: new Date().toISOString() };
    this.#state.revoked.push(record);
    this.#crl = undefined;
    this.#save();
    return { ...record, subject: issued.subject };
  }

  /** The current CRL, signed anew once half its validity has passed or after a revocation. */
  async crl(): Promise<{ der: Buffer; pem: string }> {
    if (this.#crl && Date.now() - this.#crl.signedAt < this.#config.crlValidityMs / 2) return this.#crl;
    this.#state.crlNumber += 1;
    const revokedAt = new Map(this.#state.revoked.map((r) => [r.serial, new Date(r.revokedAt)]));
    const pem = await createCrl(
      this.#root,
      this.#state.revoked.map((r) => ({ serial: r.serial, reason: REASONS[r.reason] })),
      { validityMs: this.#config.crlValidityMs, crlNumber: this.#state.crlNumber, revokedAt: (serial) => revokedAt.get(normalizeSerial(serial)) },
    );
    this.#save();
    this.#crl = { pem, der: Buffer.from(x509.PemConverter.decodeFirst(pem)), signedAt: Date.now() };
    return this.#crl;
  }

  /** The root's SHA-256 fingerprint, for the start-up line of the log. */
  get rootFingerprint(): string {
    return parseCertificate(this.#root.certificatePem).fingerprint256;
  }

  #save(): void {
    const file = path.join(this.#dir, EXTERNAL_CA_FILES.state);
    writeFileSync(`${file}.tmp`, JSON.stringify(this.#state, null, 1), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }
}
