// Which operational identity a bootstrap credential may buy (docs/trust-model.md):
// - an identity is bound to the bootstrap credential that first bought it (an enrolment), or to
//   the one the engineer named for its address in the white list;
// - an identity one credential holds is never issued on another's, except to a new credential
//   for the same address (the same device, re-provisioned), which supersedes the old one;
// - reserved identities (the application's, the servers', step-ca's, the lab's own clients) are
//   never issued unless the engineer named the identity for that address, and only application
//   identities can be named that way;
// - an identity the service team certified by hand (firmware that does not provision itself) is
//   never bought by a bootstrap credential until the engineer releases it.
// Every decision is synchronous on one SQLite file, so two requests for the same identity can
// never both win.
import Database from 'better-sqlite3';
import { escapeRegExp } from '../../net/regexp.ts';

export type IdentityRole = 'device' | 'application';

export interface Enrolment {
  identity: string;
  role: IdentityRole;
  /**
   * Serial (lowercase hex) of the bootstrap credential the identity is bound to; for an identity
   * the service team holds, `service-team:<identity>` (no bootstrap credential can buy it).
   */
  bootstrapSerial: string;
  /** The address the bootstrap credential names (its IP SAN), when it names one. */
  address: string | null;
  /**
   * 'first-use' (the credential's first request chose it), 'white-list' (the engineer named it)
   * or 'service-team' (a device that does not provision itself: its certificate or legacy
   * credential came from the service team, seed 000's manual intervention).
   */
  source: 'first-use' | 'white-list' | 'service-team';
  enrolledAt: Date;
}

export interface IdentityRulesConfig {
  /** CN of the managing application; it and every "<it>-<suffix>" are application identities. */
  applicationIdentity: string;
  /** Further names no device may hold. */
  reserved: readonly string[];
}

/** Device and application identities: what the broker's ACL and topic names can carry safely. */
const IDENTITY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The lab's own names: its servers, step-ca's TLS identity (which authenticates its webhook calls) and its internal clients. */
export const LAB_RESERVED_IDENTITIES = ['localhost', '127.0.0.1', 'Step Online CA', 'ecm-lab-broker-admin', 'ecm-lab-readiness-probe'];

export class IdentityRules {
  readonly #application: RegExp;
  readonly #reserved: Set<string>;

  constructor(config: IdentityRulesConfig) {
    const app = escapeRegExp(config.applicationIdentity);
    this.#application = new RegExp(`^${app}(-[A-Za-z0-9._-]+)?$`, 'i');
    this.#reserved = new Set([...LAB_RESERVED_IDENTITIES, ...config.reserved].map((n) => n.toLowerCase()));
  }

  /** Why the text cannot be an identity at all, or undefined when it can. */
  syntaxProblem(identity: string): string | undefined {
    return IDENTITY.test(identity) ? undefined : `"${identity}" is not an identity: 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`;
  }

  isApplication(identity: string): boolean {
    return this.#application.test(identity);
  }

  /** Reserved identities are never issued to a device request. */
  isReserved(identity: string): boolean {
    return this.isApplication(identity) || this.#reserved.has(identity.toLowerCase());
  }

  role(identity: string): IdentityRole {
    return this.isApplication(identity) ? 'application' : 'device';
  }

  /** The only SAN an operational certificate may carry: its identity as a URN. */
  san(identity: string): string {
    return this.isApplication(identity) ? `urn:ecm-lab:app:${identity}` : `urn:ecm-lab:device:${identity}`;
  }
}

/** A bootstrap credential as the decision needs it: its serial and the address it names. */
export interface Credential {
  serial: string;
  address: string | null;
}

export type IdentityRefusal = 'bad-identity' | 'identity-reserved' | 'identity-not-named' | 'identity-taken' | 'credential-bound';

export type IdentityDecision =
  | {
      allow: true;
      enrolment: Pick<Enrolment, 'identity' | 'role' | 'source'>;
      /** What binding it takes: none (already enrolled), a new enrolment, or moving one from a superseded credential. */
      change: 'none' | 'enrol' | 'supersede';
      /** The credential that held the identity before, when `change` is 'supersede'. */
      superseded?: string;
    }
  | { allow: false; code: IdentityRefusal; message: string };

export interface IdentityRequest {
  identity: string;
  credential: Credential;
  /** The identity the white list names for the credential's address, if any. */
  namedIdentity: string | undefined;
  /** The address the white list names the requested identity for, if any. */
  namedAddress: string | undefined;
}

interface Row {
  identity: string;
  role: IdentityRole;
  bootstrap_serial: string;
  address: string | null;
  source: Enrolment['source'];
  enrolled_at: string;
}

const fromRow = (r: Row): Enrolment => ({
  identity: r.identity,
  role: r.role,
  bootstrapSerial: r.bootstrap_serial,
  address: r.address,
  source: r.source,
  enrolledAt: new Date(r.enrolled_at),
});

export class Enrolments {
  readonly #db: Database.Database;
  readonly #sql;
  readonly rules: IdentityRules;

  private constructor(db: Database.Database, rules: IdentityRules) {
    this.#db = db;
    this.rules = rules;
    db.exec(`CREATE TABLE IF NOT EXISTS enrolments (
      identity TEXT PRIMARY KEY COLLATE NOCASE,
      role TEXT NOT NULL,
      bootstrap_serial TEXT NOT NULL UNIQUE,
      address TEXT,
      source TEXT NOT NULL,
      enrolled_at TEXT NOT NULL
    )`);
    this.#sql = {
      byIdentity: db.prepare('SELECT * FROM enrolments WHERE identity = ?'),
      bySerial: db.prepare('SELECT * FROM enrolments WHERE bootstrap_serial = ?'),
      all: db.prepare('SELECT * FROM enrolments ORDER BY enrolled_at, identity'),
      insert: db.prepare('INSERT INTO enrolments (identity, role, bootstrap_serial, address, source, enrolled_at) VALUES (?, ?, ?, ?, ?, ?)'),
      rebind: db.prepare('UPDATE enrolments SET bootstrap_serial = ?, address = ?, source = ?, enrolled_at = ? WHERE identity = ?'),
      release: db.prepare('DELETE FROM enrolments WHERE identity = ?'),
    };
  }

  static open(file: string, rules: IdentityRules): Enrolments {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    return new Enrolments(db, rules);
  }

  byIdentity(identity: string): Enrolment | undefined {
    const row = this.#sql.byIdentity.get(identity) as Row | undefined;
    return row && fromRow(row);
  }

  bySerial(serial: string): Enrolment | undefined {
    const row = this.#sql.bySerial.get(serial) as Row | undefined;
    return row && fromRow(row);
  }

  list(): Enrolment[] {
    return (this.#sql.all.all() as Row[]).map(fromRow);
  }

  /** The engineer releases an identity (a device replaced); false when it was not enrolled. */
  release(identity: string): boolean {
    return this.#sql.release.run(identity).changes > 0;
  }

  /** Whether `request.credential` may hold `request.identity`, without changing anything. */
  evaluate(request: IdentityRequest): IdentityDecision {
    const { identity, credential, namedIdentity } = request;
    const syntax = this.rules.syntaxProblem(identity);
    if (syntax) return { allow: false, code: 'bad-identity', message: syntax };
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const own = this.bySerial(credential.serial);
    if (own) {
      if (same(own.identity, identity)) return { allow: true, enrolment: own, change: 'none' };
      return { allow: false, code: 'credential-bound', message: `bootstrap credential ${credential.serial} is enrolled as ${own.identity}; it cannot buy ${identity}` };
    }
    if (namedIdentity !== undefined && !same(namedIdentity, identity)) {
      return { allow: false, code: 'identity-not-named', message: `the white list names ${namedIdentity} for ${credential.address}; ${identity} was asked for` };
    }
    const named = namedIdentity !== undefined;
    if (this.rules.isReserved(identity) && !(named && this.rules.isApplication(identity))) {
      return { allow: false, code: 'identity-reserved', message: `${identity} is a reserved identity: only a white-list entry naming it for an address can enrol it` };
    }
    if (request.namedAddress !== undefined && request.namedAddress !== credential.address) {
      return { allow: false, code: 'identity-not-named', message: `the white list names ${identity} for ${request.namedAddress}, not for ${credential.address ?? 'a credential without an address'}` };
    }
    const enrolment = { identity, role: this.rules.role(identity), source: named ? ('white-list' as const) : ('first-use' as const) };
    const holder = this.byIdentity(identity);
    if (!holder) return { allow: true, enrolment, change: 'enrol' };
    // The same address is the same device coming back with a new credential (its store was lost,
    // its bootstrap expired or was revoked): it takes its identity back and the old credential is
    // superseded. Anyone else is refused, whether the holder's credential is still live or not.
    if (holder.source === 'service-team') {
      return { allow: false, code: 'identity-taken', message: `${identity} is held by the service team (a certificate or legacy credential it installed); the engineer releases it before the device may enrol itself` };
    }
    if (holder.address !== null && holder.address === credential.address) return { allow: true, enrolment, change: 'supersede', superseded: holder.bootstrapSerial };
    return { allow: false, code: 'identity-taken', message: `${identity} is enrolled to another bootstrap credential (${holder.bootstrapSerial}, address ${holder.address ?? 'none'})` };
  }

  /** Evaluates and binds in one transaction, so two requests for the same identity never both win. */
  decide(request: IdentityRequest, now = new Date()): IdentityDecision {
    return this.#db.transaction((): IdentityDecision => {
      const decision = this.evaluate(request);
      if (!decision.allow || decision.change === 'none') return decision;
      const { identity, role, source } = decision.enrolment;
      const { serial, address } = request.credential;
      if (decision.change === 'enrol') this.#sql.insert.run(identity, role, serial, address, source, now.toISOString());
      else this.#sql.rebind.run(serial, address, source, now.toISOString(), identity);
      return decision;
    }).immediate();
  }

  /**
   * The service team takes an identity for a device that does not provision itself (seed 000:
   * 2.0 and 1.x). Refused when a bootstrap credential holds it: the engineer releases that first.
   */
  holdForServiceTeam(identity: string, now = new Date()): { held: true; enrolment: Enrolment } | { held: false; holder: Enrolment } {
    return this.#db.transaction(() => {
      const holder = this.byIdentity(identity);
      if (holder && holder.source !== 'service-team') return { held: false as const, holder };
      if (!holder) this.#sql.insert.run(identity, this.rules.role(identity), serviceTeamSerial(identity), null, 'service-team', now.toISOString());
      return { held: true as const, enrolment: this.byIdentity(identity)! };
    }).immediate();
  }

  close(): void {
    this.#db.close();
  }
}

/** Stands in for a bootstrap serial: unique per identity, and no certificate serial looks like it. */
function serviceTeamSerial(identity: string): string {
  return `service-team:${identity.toLowerCase()}`;
}
