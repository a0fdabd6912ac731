// The simulated external ("paid") CA as a process of its own: it stands for a third party, so it
// shares nothing with the lab but its configuration file and the HTTP API. Its directory (the
// first argument) holds config.json (written by the lab), its root key and certificate, its state
// and its operator's token; it stops on SIGTERM/SIGINT.
// FOR TESTING, NOT FOR PRODUCTION.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ExternalCaStore } from './ca-store.ts';
import { EXTERNAL_CA_FILES, externalCaConfigSchema } from './process-config.ts';
import { startExternalCaServers } from './server.ts';

const log = (line: string) => console.log(`${new Date().toISOString()} external-ca: ${line}`);

const dir = process.argv[2];
if (!dir) {
  console.error('usage: external-ca <directory holding config.json>');
  process.exit(2);
}
const parsed = externalCaConfigSchema.safeParse(JSON.parse(readFileSync(path.join(dir, EXTERNAL_CA_FILES.config), 'utf8')));
if (!parsed.success) {
  console.error(`invalid ${path.join(dir, EXTERNAL_CA_FILES.config)}:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  process.exit(2);
}
const config = parsed.data;

// The operator's token is made once, like the root: a restart keeps both.
const tokenFile = path.join(dir, EXTERNAL_CA_FILES.operatorToken);
if (!existsSync(tokenFile)) writeFileSync(tokenFile, randomBytes(32).toString('base64url'), { mode: 0o600 });
const operatorToken = readFileSync(tokenFile, 'utf8').trim();

const store = await ExternalCaStore.open(dir, config);
const servers = await startExternalCaServers(store, config, operatorToken, log);
// The ports it got, for its next start (a restart after an outage listens on the same ones).
writeFileSync(path.join(dir, EXTERNAL_CA_FILES.config), JSON.stringify(config, null, 2), { mode: 0o600 });
log(`ready (a simulated third party, for testing, not for production): public ${servers.publicUrl} (root, CRL), API ${servers.apiUrl}; root "${store.rootSubject}" SHA-256 ${store.rootFingerprint}`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void servers.close().then(() => process.exit(0));
  });
}
