// Legacy credentials (seed 000 backwards compatibility): which identities below the installation's
// "x" the service team gave a password for the broker's legacy listener, and their firmware. The
// password itself is never kept here: the broker's dynamic security plugin holds its salted hash,
// and the engineer sees it once, in the answer that created it.
import Database from 'better-sqlite3';

export interface LegacyCredential {
  identity: string;
  firmwareVersion: string;
  createdAt: Date;
}

interface Row {
  identity: string;
  firmware_version: string;
  created_at: string;
}

export class LegacyCredentials {
  readonly #db: Database.Database;
  readonly #sql;

  private constructor(db: Database.Database) {
    this.#db = db;
    db.exec(`CREATE TABLE IF NOT EXISTS legacy_credentials (
      identity TEXT PRIMARY KEY COLLATE NOCASE,
      firmware_version TEXT NOT NULL,
      created_at TEXT NOT NULL
    )`);
    this.#sql = {
      get: db.prepare('SELECT * FROM legacy_credentials WHERE identity = ?'),
      all: db.prepare('SELECT * FROM legacy_credentials ORDER BY created_at, identity'),
      insert: db.prepare('INSERT INTO legacy_credentials (identity, firmware_version, created_at) VALUES (?, ?, ?)'),
      delete: db.prepare('DELETE FROM legacy_credentials WHERE identity = ?'),
    };
  }

  static open(file: string): LegacyCredentials {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    return new LegacyCredentials(db);
  }

  get(identity: string): LegacyCredential | undefined {
    const row = this.#sql.get.get(identity) as Row | undefined;
    return row && { identity: row.identity, firmwareVersion: row.firmware_version, createdAt: new Date(row.created_at) };
  }

  list(): LegacyCredential[] {
    return (this.#sql.all.all() as Row[]).map((row) => ({ identity: row.identity, firmwareVersion: row.firmware_version, createdAt: new Date(row.created_at) }));
  }

  /** False when the identity already has one. */
  add(identity: string, firmwareVersion: string, now = new Date()): boolean {
    return this.#db.transaction(() => {
      if (this.get(identity)) return false;
      this.#sql.insert.run(identity, firmwareVersion, now.toISOString());
      return true;
    }).immediate();
  }

  remove(identity: string): boolean {
    return this.#sql.delete.run(identity).changes > 0;
  }

  close(): void {
    this.#db.close();
  }
}
