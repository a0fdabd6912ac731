// Replacing the operational CA material of a running lab (UC-04, UC-05), one rotation at a time:
// the harness's (rotatePki: the lab's own root signs a new intermediate, or a new root) and the
// service's (ca.issuer 'external': the external CA revoked the intermediate, the service ordered a
// new one). Each is recorded with who started it, why, and how it ended; stop() of the lab waits
// for one under way, so nothing is restarted after the lab stopped.
import type { CaCertificate } from '../../x509/certificate-authority.ts';
import type { LabAuthority } from '../pki/lab-authority.ts';
import { fetchExternalCrl } from '../../net/external-ca-api.ts';
import type { IntermediateRevocation } from '../../services/provisioning/context.ts';
import { normalizeSerial, parseCertificate } from '../../x509/certificates.ts';
import { parseCrls } from '../../x509/crls.ts';
import type { StartedExternalCa } from './external-ca.ts';

export interface PkiRotation {
  kind: 'intermediate' | 'root';
  /** 'harness': rotatePki(); 'service': the certificate management service after the external CA revoked the intermediate. */
  trigger: 'harness' | 'service';
  cause?: IntermediateRevocation;
  previousSerial: string;
  serial?: string;
  startedAt: number;
  /** Set once step-ca, the broker and the service run on the new material. */
  completedAt?: number;
  error?: string;
}

export interface PkiRotationOptions {
  authority: LabAuthority;
  externalCa: StartedExternalCa | undefined;
  /** Serials the inventory holds for an issuer (subject DN): a retiring intermediate's final CRL lists them. */
  issuedSerials(issuer: string): Promise<string[]>;
  /** Restarts everything that trusts or uses the intermediate, on the new material. */
  restartOnNewPki(): Promise<void>;
}

const serialOf = (ca: CaCertificate) => normalizeSerial(ca.certificate.serialNumber);

export class PkiRotations {
  readonly records: PkiRotation[] = [];
  readonly #options: PkiRotationOptions;
  #rotating: Promise<void> = Promise.resolve();

  constructor(options: PkiRotationOptions) {
    this.#options = options;
  }

  #serialized(work: () => Promise<void>): Promise<void> {
    const run = this.#rotating.catch(() => undefined).then(work);
    this.#rotating = run;
    return run;
  }

  /** Resolves once no rotation is under way (whatever its outcome). */
  settled(): Promise<void> {
    return this.#rotating.catch(() => undefined);
  }

  /** The harness's rotation (rotatePki): only with the lab's own root. */
  rotate(kind: 'intermediate' | 'root'): Promise<void> {
    const { authority } = this.#options;
    return this.#serialized(async () => {
      const current = () => (kind === 'root' ? authority.pki.root : authority.pki.intermediate);
      const record: PkiRotation = { kind, trigger: 'harness', previousSerial: serialOf(current()), startedAt: Date.now() };
      if (kind === 'root') await authority.replaceRoot();
      else if (this.#options.externalCa) throw new Error("with ca.issuer 'external' the service replaces the intermediate by itself once the external CA revokes it (UC-04): revoke it there");
      else await authority.retireIntermediate(await this.#options.issuedSerials(authority.pki.intermediate.certificate.subject));
      this.records.push(record);
      await this.#options.restartOnNewPki();
      record.serial = serialOf(current());
      record.completedAt = Date.now();
    });
  }

  /**
   * UC-04 with an external CA, asked for by the service: the external CA revoked the intermediate
   * and signed a new one for the key of the authority's intermediateCsr(). Checked and installed
   * before this resolves (so the service learns of a bad certificate); the restart of step-ca, the
   * broker and the service itself follows once the service has its answer.
   */
  async installFromService({ certificatePem, cause }: { certificatePem: string; cause: IntermediateRevocation }): Promise<void> {
    const { authority, externalCa } = this.#options;
    if (!externalCa) throw new Error("the lab's issuing CA is under its own root (ca.issuer 'lab'): there is no external CA to install from");
    const previous = authority.pki.intermediate;
    const record: PkiRotation = { kind: 'intermediate', trigger: 'service', cause, previousSerial: serialOf(previous), startedAt: Date.now() };
    let installed!: () => void;
    const answered = new Promise<void>((resolve) => (installed = resolve));
    const work = this.#serialized(async () => {
      // What clients check the old intermediate against: the external root's CRL, believed only with its signature.
      const rootCrl = await fetchExternalCrl(externalCa.crlUrl);
      if (!parseCrls(rootCrl).every((crl) => crl.signedBy(parseCertificate(externalCa.rootPem)))) throw new Error("the external CA's CRL is not signed by its root");
      const issuedSerials = await this.#options.issuedSerials(previous.certificate.subject);
      record.serial = serialOf(await authority.installIntermediate(certificatePem, { issuedSerials, rootCrl }));
      this.records.push(record);
      installed();
      await new Promise((resolve) => setImmediate(resolve)); // the service's answer leaves before its restart
      await this.#options.restartOnNewPki();
      record.completedAt = Date.now();
    });
    work.catch((err: Error) => {
      record.error = err.message;
      console.error(`ecm-lab: installing the new intermediate failed: ${err.message}`);
    });
    await Promise.race([answered, work]);
  }
}
