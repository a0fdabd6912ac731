// Keeps the broker's CRL fresh. OpenSSL refuses every client certificate once the CRL it checks
// against is past its nextUpdate ("CRL has expired"): a CRL left to age takes the whole fleet off
// the broker at its next connection. The publisher fetches the CA's CRL on a schedule well inside
// its validity (and at once after a revocation), writes it with the retired intermediates' final
// CRLs, and reloads the broker only when the CRL changed.
import { renameSync, writeFileSync } from 'node:fs';
import { x509 } from '../../x509/x509.ts';

export interface CrlPublisherOptions {
  /** The issuing CA's current CRL (PEM). */
  fetch(): Promise<string>;
  /** Further CRLs the broker needs (final CRLs of retired intermediates), read at every write. */
  extraCrls(): string[];
  file: string;
  /** Makes the broker re-read the file. */
  reload(): Promise<void>;
  /** Poll period; 0 = a tenth of the CRL's validity, at most a minute, at least 200 ms. */
  intervalMs: number;
  onError(err: Error): void;
}

export interface CrlFacts {
  thisUpdate: Date;
  nextUpdate: Date | undefined;
}

export function crlFacts(pem: string): CrlFacts {
  const crl = new x509.X509Crl(pem);
  return { thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate };
}

export class CrlPublisher {
  readonly #options: CrlPublisherOptions;
  #current = '';
  #timer: NodeJS.Timeout | undefined;
  #paused = false;
  #stopped = false;
  /** The CRL the broker has now. */
  published: CrlFacts | undefined;

  constructor(options: CrlPublisherOptions) {
    this.#options = options;
  }

  /** Writes the CA's CRL for the broker's first start; the schedule begins with start(). */
  async prime(): Promise<void> {
    this.#current = await this.#options.fetch();
    this.#write();
  }

  start(): void {
    this.#schedule();
  }

  /** Fetches now and publishes if the CRL changed (after a revocation, a rotation). */
  async refresh(options: { force?: boolean } = {}): Promise<void> {
    const pem = await this.#options.fetch();
    if (pem === this.#current && !options.force) return;
    this.#current = pem;
    this.#write();
    await this.#options.reload();
  }

  /** Hands the broker the given CRL as it is (a revocation's answer), then reloads it. */
  async publish(pem: string): Promise<void> {
    this.#current = pem;
    this.#write();
    await this.#options.reload();
  }

  /** Stops the schedule (a fault: the CRL is left to age); refresh() and publish() still work. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #write(): void {
    // Whole or not at all: a reload under way must not read half a CRL.
    writeFileSync(`${this.#options.file}.tmp`, [this.#current, ...this.#options.extraCrls()].join('\n'));
    renameSync(`${this.#options.file}.tmp`, this.#options.file);
    this.published = crlFacts(this.#current);
  }

  #period(): number {
    if (this.#options.intervalMs > 0) return this.#options.intervalMs;
    const facts = this.published;
    const validity = facts?.nextUpdate ? facts.nextUpdate.getTime() - facts.thisUpdate.getTime() : 600_000;
    return Math.min(60_000, Math.max(200, validity / 10));
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(async () => {
      if (!this.#paused) await this.refresh().catch((err: Error) => this.#options.onError(err));
      this.#schedule();
    }, this.#period());
    this.#timer.unref();
  }
}
