// Every certificate a step-ca authority issues, on any path, read from the authority's own
// request log: step-ca logs each certificate it hands out (sign, renew, rekey, the ACME
// certificate download) with `certificate=<base64 DER>`. Renewals call no webhook and may go
// straight to step-ca, so this is how the inventory sees them (docs/trust-model.md).
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { certificateSerial } from '../../x509/certificates.ts';

export interface IssuedOnLog {
  /** DER of the issued leaf. */
  der: Buffer;
  /** The request path, e.g. /1.0/renew or /acme/bootstrap/certificate/<id>. */
  path: string;
}

/** Paths whose successful answer is a freshly issued certificate (revocations also log one). */
const ISSUING_PATH = /^\/(?:1\.0\/)?(?:sign|renew|rekey)$|^\/acme\/[^/]+\/certificate\//;

/**
 * The fields of a logrus text-format line, read left to right: key=value or key="quoted value"
 * (with \" escapes), so text inside a quoted value (an error message) is never taken for a field.
 */
export function logFields(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  const pair = /([\w.-]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/y;
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    pair.lastIndex = i;
    const match = pair.exec(line);
    if (!match) {
      i = line.indexOf(' ', i) === -1 ? line.length : line.indexOf(' ', i);
      continue;
    }
    fields.set(match[1]!, match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!);
    i = pair.lastIndex;
  }
  return fields;
}

/** The certificate a step-ca log line reports as issued, if it reports one. */
export function parseIssuanceLine(line: string): IssuedOnLog | undefined {
  const fields = logFields(line);
  const certificate = fields.get('certificate');
  const path = fields.get('path');
  const status = Number(fields.get('status'));
  if (!certificate || !path || !(status >= 200 && status < 300) || !ISSUING_PATH.test(path)) return undefined;
  return { der: Buffer.from(certificate, 'base64'), path };
}

/** Serials (lowercase hex, as the inventory keeps them) of every certificate a step-ca log reports as issued. */
export function issuedOnLog(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .flatMap((line) => {
      const issued = line.includes('certificate=') ? parseIssuanceLine(line) : undefined;
      return issued ? [certificateSerial(issued.der)] : [];
    });
}

export interface IssuanceFeedOptions {
  file: string;
  onIssued(issued: IssuedOnLog): void;
  /** How often to look for new lines (ms). */
  intervalMs?: number;
}

/**
 * Follows a log file from its beginning: a restarted service reads everything again, which is
 * harmless (the inventory records each serial once). A file replaced by a shorter one is read
 * again from its start.
 */
export class IssuanceFeed {
  readonly #options: IssuanceFeedOptions;
  #offset = 0;
  #pending = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(options: IssuanceFeedOptions) {
    this.#options = options;
  }

  start(): this {
    this.poll();
    this.#timer = setInterval(() => this.poll(), this.#options.intervalMs ?? 100);
    this.#timer.unref();
    return this;
  }

  /** Reads whatever was appended since the last poll; callable directly to catch up before answering. */
  poll(): void {
    let size: number;
    try {
      size = statSync(this.#options.file).size;
    } catch {
      return; // not written yet
    }
    if (size < this.#offset) {
      this.#offset = 0;
      this.#pending = '';
    }
    if (size === this.#offset) return;
    const fd = openSync(this.#options.file, 'r');
    try {
      const buffer = Buffer.alloc(size - this.#offset);
      const read = readSync(fd, buffer, 0, buffer.length, this.#offset);
      this.#offset += read;
      const text = this.#pending + buffer.subarray(0, read).toString('utf8');
      const end = text.lastIndexOf('\n') + 1;
      this.#pending = text.slice(end);
      for (const line of text.slice(0, end).split('\n')) {
        const issued = line.includes('certificate=') ? parseIssuanceLine(line) : undefined;
        if (issued) this.#options.onIssued(issued);
      }
    } finally {
      closeSync(fd);
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
