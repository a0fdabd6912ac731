// Seed 000 "Managing Application": it uses its certificates "when all files (local.crt, local.key,
// ca.crt) are present and valid" (not expired, labelled client only), and when they are not it
// logs why "in the application log, omitting certificate information". Each defect here is made
// on disk the way it would be met: a certificate of the lab's own issuing CA for the
// application's identity with the wrong label, or a file that is gone.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { issueLeaf } from '../../environments/pki/certificate-authority.ts';
import { crlUrl } from '../../environments/pki/ca-json.ts';
import { markLog, readSince, type LogMark } from '../../environments/log-watch.ts';
import type { ClientLogEntry } from '../../simulators/client/client-log.ts';
import type { LumiaApplication } from '../../simulators/app/lumia-application.ts';
import type { DamagedStore } from './scenario-facts.ts';
import type { LabWorld } from './world.ts';

type Defect = (world: LabWorld, app: LumiaApplication) => Promise<void>;

/** A certificate for the application's own identity and a new key, from the issuing CA, with `usages` as its EKU. */
function labelled(usages: Array<'serverAuth' | 'clientAuth'>): Defect {
  return async (world, app) => {
    const lab = world.owned('ca-keys');
    const leaf = await issueLeaf(lab.pki.intermediate, { commonName: app.commonName, uris: [`urn:ecm-lab:app:${app.commonName}`], extendedKeyUsages: usages, crlDistributionPoints: [crlUrl(lab.config.ca, lab.stepCa.port)] });
    app.store.saveOperational({ certificateChainPem: `${leaf.certificatePem}\n${lab.pki.intermediate.certificatePem}\n`, privateKeyPem: leaf.privateKeyPem });
  };
}

const DEFECTS: Record<string, Defect> = {
  'its certificate is labelled for servers and clients': labelled(['serverAuth', 'clientAuth']),
  'its certificate is labelled for servers only': labelled(['serverAuth']),
  'local.key is missing': async (_world, app) => rmSync(app.store.file('operationalKey')),
  'ca.crt is missing': async (_world, app) => rmSync(app.store.file('caCert')),
};

/** Damages the offline application's store. */
export async function damageApplicationStore(world: LabWorld, defect: string): Promise<DamagedStore> {
  const damage = DEFECTS[defect];
  assert.ok(damage, `unknown store defect "${defect}"; known: ${Object.keys(DEFECTS).join(' | ')}`);
  const app = await world.runningApplication();
  await app.disconnect();
  await damage(world, app);
  return { mark: markLog(world.clientLogFile), certificatePem: readFileSync(app.store.file('operationalCert'), 'utf8') };
}

/** The application's entries in the clients' log file since `mark`. */
function logSince(mark: LogMark, client: string): { entries: ClientLogEntry[]; text: string } {
  const lines = readSince(mark).split('\n').filter((l) => l.trim() !== '' && (JSON.parse(l) as ClientLogEntry).client === client);
  return { entries: lines.map((l) => JSON.parse(l) as ClientLogEntry), text: lines.join('\n') };
}

/**
 * The log file says why the certificate was refused (the reason code, then what is wrong with
 * which file), and nothing of any certificate or key: no PEM, no piece of the refused certificate.
 */
export function assertLoggedRefusal(world: LabWorld, app: LumiaApplication, damaged: DamagedStore, cause: string): void {
  const { entries, text } = logSince(damaged.mark, app.commonName);
  const discard = entries.find((e) => e.event === 'power-up' && e.from === 'validating' && e.to === 'discarding');
  assert.ok(discard, `the application's log has no validating > discarding entry: ${text}`);
  assert.ok(String(discard.reason).startsWith(cause), `the log gives another cause: ${String(discard.reason)}`);
  assert.doesNotMatch(text, /-----BEGIN/, 'the log carries PEM');
  const body = damaged.certificatePem.split('\n').find((l) => l.length >= 64 && !l.startsWith('-----'))!;
  assert.ok(!text.includes(body.slice(0, 40)), 'the log carries the refused certificate');
  world.attach(JSON.stringify(discard, null, 1), { mediaType: 'application/json', fileName: 'application-log.json' });
}

/** After re-acquiring: local.crt, local.key and ca.crt present and valid, and the session up on them. */
export function assertStoreWhole(app: LumiaApplication): void {
  const result = app.validateStore();
  assert.equal(result.valid, true, result.valid ? '' : `${result.reason}: ${result.message}`);
  assert.equal(app.connected, true, 'the application is not connected');
}
