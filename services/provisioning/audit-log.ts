// Audit trail of every decision of the provisioning service, as JSON lines in a file (for later
// analysis) and a bounded in-memory tail (for the admin page). Requests carry keys, CSRs and
// tokens; none of that may reach the log, so every record passes through redact() first.
import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';

export type AuditDecision = 'served' | 'refused' | 'info';

export interface AuditEvent {
  event: string;
  decision: AuditDecision;
  sourceIp?: string;
  reason?: string;
  serial?: string;
  deviceId?: string;
  [field: string]: unknown;
}

export interface AuditRecord extends AuditEvent {
  /** ISO 8601 time the record was written. */
  time: string;
}

export const REDACTED = '[REDACTED]';

const SECRET_FIELD = /key|token|password|secret|authorization/i;
/** Three base64url segments, as in a JWS compact serialization; the signature may be empty. */
const JWT_CANDIDATE = /[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;

/**
 * A JOSE header is a JSON object, so requiring the first segment to decode to one tells real
 * tokens apart from dotted names such as host names and firmware versions ("device.lab.local").
 */
function containsJwt(value: string): boolean {
  for (const [candidate] of value.matchAll(JWT_CANDIDATE)) {
    const header = Buffer.from(candidate.slice(0, candidate.indexOf('.')), 'base64url').toString('utf8');
    if (!header.trimStart().startsWith('{')) continue;
    try {
      const parsed: unknown = JSON.parse(header);
      if (parsed !== null && typeof parsed === 'object') return true;
    } catch {
      // Not JSON, so not a JOSE header.
    }
  }
  return false;
}

function isSecretString(value: string): boolean {
  return value.includes('PRIVATE KEY') || containsJwt(value);
}

/**
 * Returns a JSON-safe copy with secrets masked: fields whose name looks secret, and strings that
 * hold a private key or a JWT wherever they appear (a token pasted into a reason is still a token).
 */
export function redact(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return isSecretString(value) ? REDACTED : value;
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return redact({ name: value.name, message: value.message }, seen);
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, seen));
  const out: Record<string, unknown> = {};
  for (const [field, item] of Object.entries(value)) {
    out[field] = SECRET_FIELD.test(field) ? REDACTED : redact(item, seen);
  }
  return out;
}

export interface AuditLogOptions {
  /** JSON-lines file to append to; omitted, the log is memory-only (tests, dry runs). */
  file?: string;
  /** How many recent records the admin page can show. */
  capacity?: number;
  now?: () => Date;
}

export class AuditLog {
  readonly #fd: number | undefined;
  readonly #capacity: number;
  readonly #now: () => Date;
  readonly #recent: AuditRecord[] = [];
  #closed = false;

  constructor(options: AuditLogOptions = {}) {
    this.#capacity = options.capacity ?? 200;
    this.#now = options.now ?? (() => new Date());
    if (options.file !== undefined) {
      this.#fd = openSync(options.file, 'a', 0o600);
      // The creation mode does not apply to a file that already existed with wider permissions.
      fchmodSync(this.#fd, 0o600);
    }
  }

  /**
   * Writes synchronously: an audit record must be on disk before the response that it explains
   * leaves, and records stay in decision order. Returns the record as written.
   */
  write(event: AuditEvent): AuditRecord {
    if (this.#closed) throw new Error('audit log is closed');
    const { time: _ignored, ...rest } = event as AuditEvent & { time?: unknown };
    const record = redact({ time: this.#now().toISOString(), ...rest }) as AuditRecord;
    if (this.#fd !== undefined) writeSync(this.#fd, `${JSON.stringify(record)}\n`);
    this.#recent.push(record);
    if (this.#recent.length > this.#capacity) this.#recent.splice(0, this.#recent.length - this.#capacity);
    return record;
  }

  /** Most recent first, as the admin page lists them. */
  recent(limit = this.#capacity): AuditRecord[] {
    return limit > 0 ? this.#recent.slice(-limit).reverse() : [];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#fd !== undefined) closeSync(this.#fd);
  }
}
