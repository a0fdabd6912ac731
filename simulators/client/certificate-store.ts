// A client's persistent certificate store (seed 000 "Device Component Design"): local.crt,
// local.key and ca.crt, plus the bootstrap pair that authorizes X5C requests. The directory
// is 0700 and every key 0600, written by the process that generated the key.
//
// Reads are cached, keyed by each file's identity (inode, size, modification time in ns): a
// client reads its root on every connection and its pair at every step, and the open-read-close
// of each was a noticeable part of a fleet's CPU; a file changed behind the client's back (a
// damaged store, the step CLI writing its files) changes its identity and is read again.
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const STORE_FILES = {
  operationalCert: 'local.crt',
  operationalKey: 'local.key',
  caCert: 'ca.crt',
  bootstrapCert: 'bootstrap.crt',
  bootstrapKey: 'bootstrap.key',
  /** The key of a certificate request the service team has yet to answer (seed 000's manual path). */
  pendingKey: 'request.key',
  /** A password for the broker's legacy listener (firmware below the installation's "x"). */
  legacyCredential: 'legacy-credential.json',
} as const;

export interface LegacyCredential {
  username: string;
  password: string;
}

export interface StoredPair {
  certificateChainPem: string;
  privateKeyPem: string;
}

export class CertificateStore {
  /** File contents by file name, with the stat identity they were read (or written) under. */
  readonly #cache = new Map<string, { identity: string; content: string }>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is masked by the umask and ignored for an existing directory.
    chmodSync(dir, 0o700);
  }

  file(name: keyof typeof STORE_FILES): string {
    return path.join(this.dir, STORE_FILES[name]);
  }

  private write(name: keyof typeof STORE_FILES, content: string, mode: number): void {
    const file = this.file(name);
    // Remove first: writeFileSync keeps the mode of an existing file.
    rmSync(file, { force: true });
    writeFileSync(file, content, { mode });
    const identity = CertificateStore.identity(file);
    if (identity) this.#cache.set(file, { identity, content });
  }

  private static identity(file: string): string | undefined {
    const st = statSync(file, { bigint: true, throwIfNoEntry: false });
    return st ? `${st.ino}:${st.size}:${st.mtimeNs}` : undefined;
  }

  private read(name: keyof typeof STORE_FILES): string | undefined {
    const file = this.file(name);
    const identity = CertificateStore.identity(file);
    if (!identity) {
      this.#cache.delete(file);
      return undefined;
    }
    const cached = this.#cache.get(file);
    if (cached?.identity === identity) return cached.content;
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed between the stat and the read
      throw err;
    }
    this.#cache.set(file, { identity, content });
    return content;
  }

  saveCaCertificate(pem: string): void {
    this.write('caCert', pem, 0o644);
  }

  saveBootstrap(pair: StoredPair): void {
    this.write('bootstrapKey', pair.privateKeyPem, 0o600);
    this.write('bootstrapCert', pair.certificateChainPem, 0o644);
  }

  saveOperational(pair: StoredPair): void {
    this.write('operationalKey', pair.privateKeyPem, 0o600);
    this.write('operationalCert', pair.certificateChainPem, 0o644);
  }

  loadBootstrap(): StoredPair | undefined {
    const certificateChainPem = this.read('bootstrapCert');
    const privateKeyPem = this.read('bootstrapKey');
    return certificateChainPem && privateKeyPem ? { certificateChainPem, privateKeyPem } : undefined;
  }

  loadOperational(): StoredPair | undefined {
    const certificateChainPem = this.read('operationalCert');
    const privateKeyPem = this.read('operationalKey');
    return certificateChainPem && privateKeyPem ? { certificateChainPem, privateKeyPem } : undefined;
  }

  /** The operational files one by one, each absent on its own: validation names exactly the missing ones. */
  loadOperationalFiles(): { certificateChainPem?: string; privateKeyPem?: string } {
    return { certificateChainPem: this.read('operationalCert'), privateKeyPem: this.read('operationalKey') };
  }

  loadCaCertificate(): string | undefined {
    return this.read('caCert');
  }

  savePendingKey(privateKeyPem: string): void {
    this.write('pendingKey', privateKeyPem, 0o600);
  }

  loadPendingKey(): string | undefined {
    return this.read('pendingKey');
  }

  discardPendingKey(): void {
    rmSync(this.file('pendingKey'), { force: true });
  }

  /** A password is as secret as a key: 0600. */
  saveLegacyCredential(credential: LegacyCredential): void {
    this.write('legacyCredential', JSON.stringify(credential), 0o600);
  }

  loadLegacyCredential(): LegacyCredential | undefined {
    const text = this.read('legacyCredential');
    return text === undefined ? undefined : (JSON.parse(text) as LegacyCredential);
  }

  discardLegacyCredential(): void {
    rmSync(this.file('legacyCredential'), { force: true });
  }

  /** Discards the operational pair (invalid, expired, revoked), keeping the bootstrap pair. */
  discardOperational(): void {
    rmSync(this.file('operationalCert'), { force: true });
    rmSync(this.file('operationalKey'), { force: true });
  }

  discardAll(): void {
    for (const name of Object.keys(STORE_FILES) as Array<keyof typeof STORE_FILES>) rmSync(this.file(name), { force: true });
  }
}
