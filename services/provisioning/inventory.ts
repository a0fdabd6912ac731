// Certificate inventory of the provisioning service (seeds 002/003): which certificate was issued
// to which device, and whether it is still good. SQLite so it survives a service restart.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { normalizeSerial as normalizeHex, parseCertificate } from '../../x509/certificates.ts';
import { decodeCertificate, x509 } from '../../x509/x509.ts';

export type CertificateKind = 'bootstrap' | 'operational' | (string & {});
export type CertificateStatus = 'active' | 'revoked';
export type CertificateState = 'active' | 'expiring' | 'expired' | 'revoked';

export interface CertificateRecord {
  /** Lowercase hex of the serial's integer value, no leading zeros (as Go's big.Int.Text(16)). */
  serial: string;
  deviceId: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** Lowercase hex SHA-256 of the DER certificate. */
  sha256: string;
  kind: CertificateKind;
  /** How it was issued: acme, bootstrap-endpoint, serverkeygen, x5c, renewal, service-team (null for records older than this field). */
  via: string | null;
  status: CertificateStatus;
  revokedAt: Date | null;
  revocationReason: string | null;
  recordedAt: Date;
  pem: string;
}

export class InventoryError extends Error {
  override name = 'InventoryError';
}

/** Accepts any hex spelling (colons, 0x, case, leading zeros) so lookups match however it was copied. */
export function normalizeSerial(serial: string): string {
  try {
    return normalizeHex(serial);
  } catch (err) {
    throw new InventoryError((err as Error).message);
  }
}

/** Revoked wins over expired: a revoked certificate must never be reported as merely old. */
export function certificateState(
  record: Pick<CertificateRecord, 'status' | 'notAfter'>,
  now: Date | number,
  expiringWithinMs: number,
): CertificateState {
  if (record.status === 'revoked') return 'revoked';
  const remaining = record.notAfter.getTime() - (typeof now === 'number' ? now : now.getTime());
  // notAfter is the last valid instant (RFC 5280 §4.1.2.5), hence strictly less.
  if (remaining < 0) return 'expired';
  return remaining <= expiringWithinMs ? 'expiring' : 'active';
}

/** A record as the admin API shows it: without its PEM, with its state now. */
export function describeRecord(record: CertificateRecord, now: number, expiringWithinMs: number) {
  const { pem: _pem, ...rest } = record;
  return { ...rest, state: certificateState(record, now, expiringWithinMs) };
}

/** Index i upgrades user_version i to i + 1; append, never edit, so existing files migrate. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE certificates (
     serial            TEXT PRIMARY KEY,
     device_id         TEXT NOT NULL,
     subject           TEXT NOT NULL,
     issuer            TEXT NOT NULL,
     not_before        TEXT NOT NULL,
     not_after         TEXT NOT NULL,
     sha256            TEXT NOT NULL UNIQUE,
     kind              TEXT NOT NULL,
     status            TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
     revoked_at        TEXT,
     revocation_reason TEXT,
     recorded_at       TEXT NOT NULL,
     pem               TEXT NOT NULL
   );
   CREATE INDEX certificates_by_device ON certificates (device_id);`,
  `ALTER TABLE certificates ADD COLUMN via TEXT;`,
];

interface Row {
  serial: string;
  device_id: string;
  subject: string;
  issuer: string;
  not_before: string;
  not_after: string;
  sha256: string;
  kind: string;
  via: string | null;
  status: CertificateStatus;
  revoked_at: string | null;
  revocation_reason: string | null;
  recorded_at: string;
  pem: string;
}

function fromRow(row: Row): CertificateRecord {
  return {
    serial: row.serial,
    deviceId: row.device_id,
    subject: row.subject,
    issuer: row.issuer,
    notBefore: new Date(row.not_before),
    notAfter: new Date(row.not_after),
    sha256: row.sha256,
    kind: row.kind,
    via: row.via,
    status: row.status,
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    revocationReason: row.revocation_reason,
    recordedAt: new Date(row.recorded_at),
    pem: row.pem,
  };
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new InventoryError(`inventory schema version ${version} is newer than this code (${MIGRATIONS.length})`);
  }
  db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

export interface InventoryOptions {
  /** Source of recorded_at; injectable so tests get stable values. */
  now?: () => Date;
}

function statements(db: Database.Database) {
  return {
    insert: db.prepare(
      `INSERT INTO certificates (serial, device_id, subject, issuer, not_before, not_after, sha256, kind, via, status, recorded_at, pem)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`,
    ),
    label: db.prepare('UPDATE certificates SET via = ? WHERE serial = ?'),
    revoke: db.prepare(`UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ? WHERE serial = ? AND status <> 'revoked'`),
    bySerial: db.prepare('SELECT * FROM certificates WHERE serial = ?'),
    all: db.prepare('SELECT * FROM certificates ORDER BY recorded_at, serial'),
    byDevice: db.prepare('SELECT * FROM certificates WHERE device_id = ? ORDER BY recorded_at, serial'),
  };
}

export class Inventory {
  readonly #db: Database.Database;
  readonly #now: () => Date;
  /** Compiled once: every issued certificate runs several of them on the request path. */
  readonly #sql: ReturnType<typeof statements>;

  private constructor(db: Database.Database, now: () => Date) {
    this.#db = db;
    this.#now = now;
    this.#sql = statements(db);
  }

  /** Opens or creates the database file (its directory must exist); ':memory:' for throwaway use. */
  static open(file: string, options: InventoryOptions = {}): Inventory {
    const db = new Database(file);
    try {
      // WAL lets the admin page read while a provisioning request writes.
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
    } catch (error) {
      db.close();
      throw error;
    }
    return new Inventory(db, options.now ?? (() => new Date()));
  }

  /**
   * Records an issued certificate. Idempotent on the serial, because a device may retry a request
   * whose response was lost; a different certificate under a known serial is refused.
   */
  /** `deviceId` defaults to the certificate's CN. */
  record(certificate: string | Uint8Array | x509.X509Certificate, meta: { deviceId?: string; kind: CertificateKind; via?: string }): CertificateRecord {
    // Every certificate arrives twice (the service forwards it, and step-ca logs it): the known
    // ones are recognised by Node's native parser alone; the full parse (a fifth of the
    // service's CPU at the fleet's knee, profile in BENCHMARKS.md) is for the new ones.
    const native =
      certificate instanceof x509.X509Certificate ? parseCertificate(new Uint8Array(certificate.rawData)) : parseCertificate(certificate);
    const serial = normalizeSerial(native.serialNumber);
    const sha256 = createHash('sha256').update(native.raw).digest('hex');
    return this.#db.transaction(() => {
      const existing = this.get(serial);
      if (existing) {
        if (existing.sha256 !== sha256) {
          throw new InventoryError(`serial ${serial} is already recorded for a different certificate (sha256 ${existing.sha256})`);
        }
        return existing;
      }
      const cert = certificate instanceof x509.X509Certificate ? certificate : decodeCertificate(new Uint8Array(native.raw));
      const deviceId = meta.deviceId ?? cert.subjectName.getField('CN')[0] ?? cert.subject;
      this.#sql.insert.run(serial, deviceId, cert.subject, cert.issuer, cert.notBefore.toISOString(), cert.notAfter.toISOString(),
          sha256, meta.kind, meta.via ?? null, this.#now().toISOString(), cert.toString('pem'));
      return this.get(serial)!;
    }).immediate();
  }

  /** The path that issued it, when the route that asked for it knows better than step-ca's log (which may be read first). */
  label(serial: string, via: string): CertificateRecord | undefined {
    const key = normalizeSerial(serial);
    this.#sql.label.run(via, key);
    return this.get(key);
  }

  /**
   * Marks a certificate revoked; undefined if the serial is unknown. Revoking twice keeps the first
   * time and reason, which is when the certificate stopped being trustworthy.
   */
  markRevoked(serial: string, reason: string, at: Date = this.#now()): CertificateRecord | undefined {
    const key = normalizeSerial(serial);
    this.#sql.revoke.run(at.toISOString(), reason, key);
    return this.get(key);
  }

  get(serial: string): CertificateRecord | undefined {
    const row = this.#sql.bySerial.get(normalizeSerial(serial)) as Row | undefined;
    return row && fromRow(row);
  }

  list(): CertificateRecord[] {
    return (this.#sql.all.all() as Row[]).map(fromRow);
  }

  byDevice(deviceId: string): CertificateRecord[] {
    const rows = this.#sql.byDevice.all(deviceId) as Row[];
    return rows.map(fromRow);
  }

  close(): void {
    this.#db.close();
  }
}
