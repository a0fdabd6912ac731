// The lab's own CA material and everything it issues outside step-ca: the two hierarchies (and
// their files, which step-ca reads), the servers' and the lab clients' certificates, the
// service's TLS certificate for its CSR, and the CRLs of a rotation (UC-04, UC-05).
// Two kinds of operational root (config ca.issuer):
// - 'lab': the lab's own, its key in this process's memory only; the lab signs intermediates;
// - 'external': the external CA's, whose key this process never sees. The lab keeps step-ca's
//   intermediate key and hands out its CSR; the external CA signs it (the service orders it) and
//   the lab checks what comes back before it installs it.
import type { LabConfig } from '../../config/config.ts';
import { subtle } from '../../x509/keys.ts';
import { decodeCertificate, x509 } from '../../x509/x509.ts';
import { createCaKeyAndCsr, createIntermediateCa, finish, issueForCsr, issueLeaf, type CaCertificate, type IssuedCertificate, type LeafRequest } from '../../x509/certificate-authority.ts';
import { createCrl } from '../../x509/crl-signing.ts';
import { createBootstrapHierarchy, createLabPki, createOperationalHierarchy, labPkiFiles, writeLabPki, type LabPki, type LabPkiFiles } from './lab-pki.ts';

const YEAR_MS = 365 * 24 * 3600 * 1000;
const SERVER_NAMES: Omit<LeafRequest, 'notAfter'> = { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], extendedKeyUsages: ['serverAuth'] };

export interface IssuedPair {
  /** Leaf then the issuing intermediate, so a peer that trusts only the root builds the chain. */
  certificateChainPem: string;
  privateKeyPem: string;
}

/** What the lab needs of an external CA: its root, and a way to have a CSR signed (through the service, whose credential it is). */
export interface ExternalRoot {
  rootPem: string;
  /** The certificate (PEM) the external CA issued for the CSR. */
  order(csrPem: string): Promise<string>;
}

export class LabAuthority {
  /** Mutable: a rotation replaces the operational root or intermediate in place. */
  readonly pki: LabPki;
  readonly files: LabPkiFiles;
  readonly issuer: 'lab' | 'external';
  readonly #config: LabConfig['pki'];
  readonly #retiredIntermediateCrls: string[] = [];
  /** The lab's own root with its key ('lab' only). */
  #rootIssuer: IssuedCertificate | undefined;
  #rootCrl: string | undefined;
  /** A new intermediate key waiting for the external CA's certificate. */
  #pending: CryptoKeyPair | undefined;

  private constructor(config: LabConfig['pki'], pki: LabPki, files: LabPkiFiles, rootIssuer: IssuedCertificate | undefined) {
    this.#config = config;
    this.pki = pki;
    this.files = files;
    this.#rootIssuer = rootIssuer;
    this.issuer = rootIssuer ? 'lab' : 'external';
  }

  /** New hierarchies, written (keys 0600) into `dir`. */
  static async create(config: LabConfig['pki'], dir: string): Promise<LabAuthority> {
    const pki = await createLabPki(config);
    return new LabAuthority(config, pki, writeLabPki(pki, dir), pki.root);
  }

  /** The operational intermediate under an external root (signed for a CSR of the lab's key); the bootstrap hierarchy is the lab's. */
  static async underExternalRoot(config: LabConfig['pki'], dir: string, external: ExternalRoot): Promise<LabAuthority> {
    const certificate = decodeCertificate(external.rootPem);
    const root: CaCertificate = { certificate, certificatePem: certificate.toString('pem'), algorithm: config.keyAlgorithm };
    const bootstrap = await createBootstrapHierarchy(config);
    // Without an intermediate until the external CA's first certificate is in (below): nothing
    // is written or issued before.
    const pki = { root, bootstrapRoot: bootstrap.root, bootstrapIntermediate: bootstrap.intermediate } as LabPki;
    const authority = new LabAuthority(config, pki, labPkiFiles(dir), undefined);
    pki.intermediate = await authority.#certified(await external.order(await authority.intermediateCsr()));
    writeLabPki(pki, dir);
    return authority;
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

  #nextIntermediateName(): string {
    // A new name for every intermediate: a retired one's final CRL must never speak for its successor.
    return this.pki.intermediate ? `${this.#config.organization} Intermediate CA ${Date.now()}` : `${this.#config.organization} Intermediate CA`;
  }

  /** The retired intermediate's final CRL lists `issuedSerials` (every certificate it issued), so the broker refuses them. */
  async #retire(issuedSerials: string[]): Promise<void> {
    const retired = this.pki.intermediate;
    this.#retiredIntermediateCrls.push(await createCrl(retired, issuedSerials.map((serial) => ({ serial, reason: x509.X509CrlReason.cACompromise }))));
  }

  /**
   * UC-04 with the lab's own root: the root revokes the issuing intermediate and signs a new one.
   * The root's CRL lists the old intermediate, so clients checking whole chains refuse it too.
   */
  async retireIntermediate(issuedSerials: string[]): Promise<void> {
    const root = this.#rootIssuer;
    if (!root) throw new Error("the operational root is the external CA's: a new intermediate comes from it (the service orders it when the CA revokes the current one)");
    const retired = this.pki.intermediate;
    await this.#retire(issuedSerials);
    this.#rootCrl = await createCrl(root, [{ serial: retired.certificate.serialNumber, reason: x509.X509CrlReason.cACompromise }]);
    this.pki.intermediate = await createIntermediateCa(root, {
      commonName: this.#nextIntermediateName(),
      organization: this.#config.organization,
      algorithm: this.#config.keyAlgorithm,
      validityDays: this.#config.intermediateValidityDays,
    });
    writeLabPki(this.pki, this.files.dir);
  }

  /** UC-04 with an external root: a new key for step-ca, kept here until its certificate is installed; returns its CSR. */
  async intermediateCsr(): Promise<string> {
    if (this.#rootIssuer) throw new Error("the operational root is the lab's own: it signs new intermediates itself (ca.issuer 'lab')");
    const { keys, csrPem } = await createCaKeyAndCsr({ commonName: this.#nextIntermediateName(), organization: this.#config.organization, algorithm: this.#config.keyAlgorithm });
    this.#pending = keys;
    return csrPem;
  }

  /**
   * The external CA's certificate for the pending key, checked, then installed for step-ca: the old
   * intermediate retires (its final CRL lists `issuedSerials`) and `rootCrl`, the external CA's
   * current CRL, is what clients check the old intermediate against.
   */
  async installIntermediate(certificatePem: string, retiring: { issuedSerials: string[]; rootCrl: string }): Promise<IssuedCertificate> {
    const installed = await this.#certified(certificatePem);
    await this.#retire(retiring.issuedSerials);
    this.#rootCrl = retiring.rootCrl;
    this.pki.intermediate = installed;
    writeLabPki(this.pki, this.files.dir);
    return installed;
  }

  /** The pending key with its certificate, once the certificate proves to be what step-ca may sign with. */
  async #certified(certificatePem: string): Promise<IssuedCertificate> {
    const keys = this.#pending;
    if (!keys) throw new Error('no intermediate key waits for a certificate: ask for a CSR first');
    let certificate: x509.X509Certificate;
    try {
      certificate = decodeCertificate(certificatePem);
    } catch (err) {
      throw new Error(`the intermediate certificate does not parse: ${(err as Error).message}`);
    }
    const root = this.pki.root.certificate;
    const spki = Buffer.from(await subtle.exportKey('spki', keys.publicKey));
    if (!Buffer.from(certificate.publicKey.rawData).equals(spki)) throw new Error('the intermediate certificate is not for the key the lab made');
    if (certificate.issuer !== root.subject || !(await certificate.verify({ publicKey: root, signatureOnly: true }))) throw new Error('the intermediate certificate is not signed by the external root');
    const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
    if (!constraints?.ca || constraints.pathLength !== 0) throw new Error('the intermediate certificate is not a CA certificate of path length 0');
    const now = Date.now();
    if (certificate.notBefore.getTime() > now || certificate.notAfter.getTime() < now) throw new Error('the intermediate certificate is not valid now');
    this.#pending = undefined;
    return finish(certificate, keys, this.#config.keyAlgorithm);
  }

  /** UC-05: a new operational root and intermediate; certificates under the old root are unknown to all. The bootstrap hierarchy stays. */
  async replaceRoot(): Promise<void> {
    if (!this.#rootIssuer) throw new Error("the operational root is the external CA's: the lab cannot replace it (root rotation needs ca.issuer 'lab')");
    const operational = await createOperationalHierarchy(this.#config);
    Object.assign(this.pki, operational);
    this.#rootIssuer = operational.root;
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
