// The lab's own CA material and everything it issues outside step-ca: the two hierarchies (and
// their files, which step-ca reads), the servers' and the lab clients' certificates, the
// service's TLS certificate for its CSR, and the CRLs of a rotation (UC-04, UC-05).
import type { LabConfig } from '../config.ts';
import { x509 } from '../../x509/x509.ts';
import { createIntermediateCa, issueForCsr, issueLeaf, type LeafRequest } from './certificate-authority.ts';
import { createCrl } from './crl.ts';
import { createLabPki, createOperationalHierarchy, writeLabPki, type LabPki, type LabPkiFiles } from './lab-pki.ts';

const YEAR_MS = 365 * 24 * 3600 * 1000;
const SERVER_NAMES: Omit<LeafRequest, 'notAfter'> = { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], extendedKeyUsages: ['serverAuth'] };

export interface IssuedPair {
  /** Leaf then the issuing intermediate, so a peer that trusts only the root builds the chain. */
  certificateChainPem: string;
  privateKeyPem: string;
}

export class LabAuthority {
  /** Mutable: a rotation replaces the operational root or intermediate in place. */
  readonly pki: LabPki;
  readonly files: LabPkiFiles;
  readonly #config: LabConfig['pki'];
  readonly #retiredIntermediateCrls: string[] = [];
  #rootCrl: string | undefined;

  private constructor(config: LabConfig['pki'], pki: LabPki, files: LabPkiFiles) {
    this.#config = config;
    this.pki = pki;
    this.files = files;
  }

  /** New hierarchies, written (keys 0600) into `dir`. */
  static async create(config: LabConfig['pki'], dir: string): Promise<LabAuthority> {
    const pki = await createLabPki(config);
    return new LabAuthority(config, pki, writeLabPki(pki, dir));
  }

  #chain(leafPem: string): string {
    return `${leafPem}\n${this.pki.intermediate.certificatePem}\n`;
  }

  /** A server certificate for localhost/127.0.0.1 from the current intermediate (the broker's). */
  async serverCertificate(): Promise<IssuedPair> {
    const leaf = await issueLeaf(this.pki.intermediate, { ...SERVER_NAMES, notAfter: new Date(Date.now() + YEAR_MS) });
    return { certificateChainPem: this.#chain(leaf.certificatePem), privateKeyPem: leaf.privateKeyPem + '\n' };
  }

  /** The server certificate for a CSR whose key stays with its holder (the provisioning service). */
  async certifyServerCsr(csrPem: string): Promise<string> {
    return this.#chain(await issueForCsr(this.pki.intermediate, csrPem, { ...SERVER_NAMES, notAfter: new Date(Date.now() + YEAR_MS) }));
  }

  /** A client certificate of the lab's own (the broker's readiness probe, its administrator). */
  async clientCertificate(commonName: string, crlUrl: string): Promise<IssuedPair> {
    const leaf = await issueLeaf(this.pki.intermediate, { commonName, extendedKeyUsages: ['clientAuth'], crlDistributionPoints: [crlUrl], notAfter: new Date(Date.now() + YEAR_MS) });
    return { certificateChainPem: this.#chain(leaf.certificatePem), privateKeyPem: leaf.privateKeyPem };
  }

  /**
   * UC-04: the (external) root revokes the issuing intermediate and signs a new one. The old
   * intermediate's final CRL lists `issuedSerials` (every certificate it issued), so the broker
   * refuses them; the root's CRL lists the old intermediate, so clients checking whole chains do.
   */
  async retireIntermediate(issuedSerials: string[]): Promise<void> {
    const retired = this.pki.intermediate;
    this.#retiredIntermediateCrls.push(await createCrl(retired, issuedSerials.map((serial) => ({ serial, reason: x509.X509CrlReason.cACompromise }))));
    this.#rootCrl = await createCrl(this.pki.root, [{ serial: retired.certificate.serialNumber, reason: x509.X509CrlReason.cACompromise }]);
    this.pki.intermediate = await createIntermediateCa(this.pki.root, {
      commonName: `${this.#config.organization} Intermediate CA ${Date.now()}`,
      organization: this.#config.organization,
      algorithm: this.#config.keyAlgorithm,
      validityDays: this.#config.intermediateValidityDays,
    });
    writeLabPki(this.pki, this.files.dir);
  }

  /** UC-05: a new operational root and intermediate; certificates under the old root are unknown to all. The bootstrap hierarchy stays. */
  async replaceRoot(): Promise<void> {
    Object.assign(this.pki, await createOperationalHierarchy(this.#config));
    this.#retiredIntermediateCrls.length = 0;
    this.#rootCrl = undefined;
    writeLabPki(this.pki, this.files.dir);
  }

  /** Final CRLs of retired intermediates (the broker checks only a leaf's issuer: it needs these). */
  retiredIntermediateCrls(): string[] {
    return [...this.#retiredIntermediateCrls];
  }

  /** CRLs clients use to check whole chains: the root's CRL and retired intermediates' final CRLs. */
  chainCrls(): string[] {
    return [...(this.#rootCrl ? [this.#rootCrl] : []), ...this.#retiredIntermediateCrls];
  }
}
