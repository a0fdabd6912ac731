// UC-04 made automatic (seed 000: "The certificate management service shall monitor the status of
// issued certificates for: External CA revocation"): the service fetches the external CA's CRL on
// a schedule and, once the intermediate step-ca signs with is on it, starts the re-issue by itself.
// What it believes: only a CRL signed by the external root's key (an impostor's CRL changes
// nothing); a revocation listed on any such CRL, however old (revocation is final); "not revoked"
// only from a CRL that is current and no older than one already seen. A failed fetch is logged and
// retried at the next check; nothing here throws out of the schedule.
import { issuerDer, parseCrls, type ParsedCrl } from '../../x509/crls.ts';
import { certificateSerial, parseCertificate, type X509Certificate } from '../../x509/certificates.ts';
import { x509 } from '../../x509/x509.ts';
import type { AuditDecision, AuditEvent } from './audit-log.ts';
import type { IntermediateRevocation } from './context.ts';

export interface IntermediateMonitorOptions {
  /** Where the CRL comes from (for the records). */
  crlUrl: string;
  /** The external CA's CRL, PEM, fetched anew at every check. */
  fetchCrl(): Promise<string>;
  /** The external root: the only key whose CRLs are believed. */
  rootPem: string;
  /** The intermediate step-ca signs with now. */
  intermediatePem: string;
  intervalMs: number;
  audit(event: AuditEvent): void;
  log(line: string): void;
  /** A new intermediate from the external CA, installed for step-ca; resolves with the new serial. */
  reissue(cause: IntermediateRevocation): Promise<{ serial: string }>;
  now?: () => number;
}

export type CheckOutcome =
  | { kind: 'unreachable'; message: string }
  | { kind: 'refused'; reason: string; message: string }
  | { kind: 'not-revoked' }
  | { kind: 'reissued'; serial: string }
  | { kind: 'reissue-failed'; message: string }
  /** Revoked, and already re-issued by this process (the lab restarts it on the new intermediate). */
  | { kind: 'handled' };

const EVENT = 'external-crl-check';

export class IntermediateMonitor {
  readonly #options: IntermediateMonitorOptions;
  readonly #root: X509Certificate;
  readonly #serial: string;
  readonly #now: () => number;
  /** The newest CRL believed so far: an older one is a replay and proves nothing. */
  #newest: { thisUpdate: number; crlNumber: number | undefined } | undefined;
  #failures = 0;
  #reissued: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<CheckOutcome> | undefined;
  #stopped = false;

  constructor(options: IntermediateMonitorOptions) {
    this.#options = options;
    this.#root = parseCertificate(options.rootPem);
    this.#serial = certificateSerial(options.intermediatePem);
    this.#now = options.now ?? Date.now;
  }

  /** Checks now, then every interval; each check starts after the previous one ended. */
  start(): void {
    this.#options.log(`watching the external CA's CRL at ${this.#options.crlUrl} every ${this.#options.intervalMs} ms for intermediate ${this.#serial}`);
    const tick = async () => {
      await this.check();
      if (this.#stopped) return;
      this.#timer = setTimeout(tick, this.#options.intervalMs);
      this.#timer.unref();
    };
    void tick();
  }

  /** No further check; one under way finishes without writing anything. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** One check (single-flight: a call during a check waits for that one). */
  check(): Promise<CheckOutcome> {
    this.#running ??= this.#check().finally(() => (this.#running = undefined));
    return this.#running;
  }

  #audit(event: { decision: AuditDecision; event?: string; [field: string]: unknown }): void {
    if (!this.#stopped) this.#options.audit({ crlUrl: this.#options.crlUrl, ...event, event: event.event ?? EVENT });
  }

  #refuse(reason: string, message: string): CheckOutcome {
    this.#audit({ decision: 'refused', reason, message, intermediateSerial: this.#serial });
    this.#options.log(`external CA CRL not believed (${reason}): ${message}; nothing changes`);
    return { kind: 'refused', reason, message };
  }

  async #check(): Promise<CheckOutcome> {
    let pem: string;
    try {
      pem = await this.#options.fetchCrl();
    } catch (err) {
      this.#failures += 1;
      const message = (err as Error).message;
      this.#audit({ decision: 'refused', reason: 'external-ca-unreachable', message, attempt: this.#failures });
      this.#options.log(`cannot fetch the external CA's CRL (attempt ${this.#failures}): ${message}; retrying in ${this.#options.intervalMs} ms`);
      return { kind: 'unreachable', message };
    }
    let parsed: ParsedCrl;
    let crl: x509.X509Crl;
    try {
      const all = parseCrls(pem);
      if (all.length !== 1) return this.#refuse('crl-malformed', `expected one CRL, got ${all.length}`);
      parsed = all[0]!;
      crl = new x509.X509Crl(pem);
    } catch (err) {
      return this.#refuse('crl-malformed', `the CRL does not parse: ${(err as Error).message}`);
    }
    // The root is self-issued: its issuer Name is its subject, the Name its CRLs carry.
    if (!parsed.issuerDer.equals(issuerDer(this.#root))) return this.#refuse('crl-wrong-issuer', `the CRL's issuer is ${crl.issuer}, not the external root`);
    if (!parsed.signedBy(this.#root)) return this.#refuse('crl-signature-invalid', `the CRL names the external root as its issuer but is not signed by its key`);
    if (this.#failures > 0) {
      this.#audit({ decision: 'info', reason: 'crl-accepted', message: `the external CA answers again after ${this.#failures} failed checks`, afterFailures: this.#failures });
      this.#options.log(`the external CA's CRL is back after ${this.#failures} failed checks`);
    }
    this.#failures = 0;
    const crlNumber = parsed.crlNumber;

    if (parsed.serials.has(this.#serial)) {
      if (this.#reissued) return { kind: 'handled' };
      const entry = crl.findRevoked(this.#serial);
      const cause: IntermediateRevocation = {
        serial: this.#serial,
        revokedAt: entry?.revocationDate.toISOString(),
        crlReason: entry?.reason !== undefined ? x509.X509CrlReason[entry.reason] : undefined,
        crlNumber,
        crlThisUpdate: parsed.thisUpdate.toISOString(),
        crlUrl: this.#options.crlUrl,
      };
      this.#audit({ event: 'intermediate-revoked', decision: 'info', cause: `the external CA's CRL lists the issuing intermediate (reason ${cause.crlReason ?? 'none given'})`, ...cause });
      this.#options.log(`the external CA revoked the issuing intermediate ${this.#serial} (${cause.crlReason ?? 'no reason'}): re-issuing`);
      try {
        const { serial } = await this.#options.reissue(cause);
        this.#reissued = serial;
        this.#audit({ event: 'intermediate-reissued', decision: 'info', serial, previousSerial: this.#serial, issuer: this.#root.subject.replace(/\n/g, ', ') });
        this.#options.log(`new intermediate ${serial} from the external CA installed for step-ca (replacing ${this.#serial})`);
        return { kind: 'reissued', serial };
      } catch (err) {
        const message = (err as Error).message;
        this.#audit({ event: 'intermediate-reissue-failed', decision: 'refused', reason: 'reissue-failed', previousSerial: this.#serial, message });
        this.#options.log(`re-issuing the intermediate failed: ${message}; trying again at the next check`);
        return { kind: 'reissue-failed', message };
      }
    }

    // Not listed: that means "not revoked" only for a current CRL no older than one seen before.
    const newest = this.#newest;
    const older = newest && (crlNumber !== undefined && newest.crlNumber !== undefined ? crlNumber < newest.crlNumber : parsed.thisUpdate.getTime() < newest.thisUpdate);
    if (older) return this.#refuse('crl-replayed', `this CRL (number ${crlNumber ?? '?'}, ${parsed.thisUpdate.toISOString()}) is older than one already seen`);
    if (parsed.nextUpdate && parsed.nextUpdate.getTime() < this.#now()) return this.#refuse('crl-stale', `the CRL was due for renewal at ${parsed.nextUpdate.toISOString()}`);
    this.#newest = { thisUpdate: parsed.thisUpdate.getTime(), crlNumber };
    return { kind: 'not-revoked' };
  }
}
