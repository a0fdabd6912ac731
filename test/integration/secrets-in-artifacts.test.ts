// Secrets never end up in artifacts: one whole Gherkin run (as CI runs it, a child process with a
// known admin token), then every file it wrote - component and client logs, cucumber reports,
// Allure results and report, the traceability matrix and the run summary - is searched for
// private keys, the admin token and JWTs, including inside base64-encoded attachments. And on
// disk, while a lab runs: keys 0600, their directories 0700.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { startLocalLab } from '../../environments/local/local-environment.ts';
import { repoRoot } from '../../environments/tools/tools.ts';
import { ProvisioningAdminClient } from '../../services/provisioning/admin-client.ts';
import { startChallengeResponder } from '../../simulators/acme/http01-responder.ts';
import { LumiaApplication } from '../../simulators/app/lumia-application.ts';
import { ReveosDevice } from '../../simulators/device/reveos-device.ts';
import { loopbackAddress } from '../../simulators/client/addresses.ts';
import { labEndpoints } from '../../simulators/client/lab-endpoints.ts';
import { startCli } from '../support/cli.ts';

/** A JWT: three base64url segments, the first a JSON object ("eyJ" is base64url of '{"'). */
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/;

interface Finding {
  file: string;
  what: string;
  /** Where it was: plain text or a decoded base64 attachment. */
  in: string;
}

function walk(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? walk(file) : [file];
  });
}

function secretsIn(text: string, adminToken: string, file = ''): string[] {
  const found: string[] = [];
  if (text.includes('PRIVATE KEY')) found.push('a private key');
  // The evidence pages hold no PEM block of any kind, certificates included.
  if (/[/\\](traceability|summary)[/\\]/.test(file) && text.includes('-----BEGIN')) found.push('a PEM block');
  if (text.includes(adminToken)) found.push('the admin token');
  const jwt = JWT.exec(text);
  if (jwt) found.push(`a JWT (${jwt[0].slice(0, 16)}...)`);
  return found;
}

/** Strings in JSON documents, decoded too when they are base64 (cucumber and Allure embed attachments so). */
function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* strings(item);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) yield* strings(item);
}

function scanFile(file: string, adminToken: string): Finding[] {
  const text = readFileSync(file).toString('utf8');
  const findings = secretsIn(text, adminToken, file).map((what) => ({ file, what, in: 'text' }));
  const documents: unknown[] = [];
  if (file.endsWith('.json')) {
    try {
      documents.push(JSON.parse(text));
    } catch {
      // not JSON after all
    }
  } else if (file.endsWith('.ndjson')) {
    for (const line of text.split('\n')) if (line.trim()) documents.push(JSON.parse(line));
  }
  for (const value of documents.flatMap((d) => [...strings(d)])) {
    if (value.length < 16 || !/^[A-Za-z0-9+/=\r\n]+$/.test(value)) continue;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    for (const what of secretsIn(decoded, adminToken)) findings.push({ file, what, in: 'a base64 attachment' });
  }
  return findings;
}

test('a whole Gherkin run leaves no private key, admin token or JWT in any report or log', { timeout: 15 * 60_000 }, async () => {
  const adminToken = randomBytes(32).toString('base64url');
  // npm test runs the whole suite here, once: its reports go to reports/ as always (what CI keeps),
  // its component logs to a directory of its own under reports/logs, so that the labs of the
  // integration tests running beside it cannot be mistaken for its own (they write their reports
  // elsewhere too).
  const reports = path.join(repoRoot, 'reports');
  mkdirSync(path.join(reports, 'logs'), { recursive: true });
  const logsDir = mkdtempSync(path.join(reports, 'logs', 'whole-suite-'));
  const started = Date.now();
  try {
    const run = startCli(['run'], { ECM_LAB_ADMIN_TOKEN: adminToken, ECM_LAB_LOGS_DIR: logsDir });
    const { code } = await run.exit;
    assert.equal(code, 0, `the suite failed:\n${run.stdout().slice(-3000)}\n${run.stderr().slice(-3000)}`);

    // The shared lab, and the labs some scenarios start of their own.
    const labs = readdirSync(logsDir);
    assert.ok(labs.length >= 1, 'no lab logs at all');
    const logs = labs.flatMap((lab) => walk(path.join(logsDir, lab)));
    for (const name of ['step-ca.log', 'bootstrap-ca.log', 'mosquitto.log', 'provisioning-service.log', 'clients.log']) assert.ok(logs.some((f) => path.basename(f) === name), `no ${name}`);
    // Files of this run only: reports/ is shared with whatever else ran before.
    const recent = (dir: string) => walk(path.join(reports, dir)).filter((f) => statSync(f).mtimeMs >= started);
    const cucumber = recent('cucumber');
    for (const name of ['report.json', 'messages.ndjson', 'report.html']) assert.ok(cucumber.some((f) => path.basename(f) === name), `no fresh reports/cucumber/${name}`);
    const allure = recent('allure-results');
    // The pages written for stakeholders after the run: the single-file Allure report, the
    // traceability matrix and the run summary (the PDF is printed from the scanned HTML).
    const evidence = ['allure-report', 'traceability', 'summary'].flatMap(recent).filter((f) => !f.endsWith('.pdf'));
    for (const name of ['allure-report/index.html', 'traceability/index.html', 'traceability/traceability.json', 'summary/index.html', 'summary/summary.json']) {
      assert.ok(evidence.some((f) => f.endsWith(name)), `no fresh reports/${name}`);
    }
    // The JUnit XML for CI systems quotes the steps and any failure message too.
    const junit = path.join(reports, 'junit.xml');
    assert.ok(statSync(junit).mtimeMs >= started, 'no fresh reports/junit.xml');
    const files = [...logs, ...cucumber, ...allure, ...evidence, junit];

    const findings = files.flatMap((f) => scanFile(f, adminToken));
    assert.deepEqual(findings, [], `secrets in artifacts:\n${findings.map((f) => `  ${path.relative(repoRoot, f.file)}: ${f.what} in ${f.in}`).join('\n')}`);
    // The scan itself must be able to see what it looks for (a control, not an assumption).
    assert.deepEqual(secretsIn(`x ${adminToken} -----BEGIN PRIVATE KEY----- eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln`, adminToken).length, 3);
    console.log(`# scanned ${files.length} files: ${logs.length} logs, ${cucumber.length} cucumber reports, ${allure.length} Allure results, ${evidence.length} evidence pages`);
  } catch (err) {
    throw Object.assign(err as Error, { message: `${(err as Error).message}\n(the suite's component logs: ${logsDir})` });
  }
});

test('while a lab runs, every private key on disk is 0600 and every directory above it 0700', { timeout: 120_000 }, async () => {
  const lab = await startLocalLab(loadConfig({ env: {} }));
  const responder = await startChallengeResponder(lab.bootstrapCa.acmeHttpPort);
  try {
    const endpoints = labEndpoints(lab, responder);
    const admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, endpoints.trustedRootPem);
    const segment = 6;
    await admin.turnOn();
    await admin.setWhitelist([`127.${10 + segment * 2}.0.0/15`, `${loopbackAddress(0, segment)}=lumia`]);
    const clientsDir = path.join(lab.workDir, 'clients');
    const app = new LumiaApplication({ address: loopbackAddress(0, segment), storeDir: path.join(clientsDir, 'lumia'), endpoints });
    const device = new ReveosDevice(
      { deviceId: 'RVS-PERMS', serialNumber: 'SN-PERMS', model: 'Reveos', firmwareVersion: '2.1' },
      { address: loopbackAddress(1, segment), storeDir: path.join(clientsDir, 'RVS-PERMS'), endpoints },
    );
    for (const client of [app, device]) {
      await client.provision();
      await client.getCertificate();
    }
    await device.renewCertificate(); // rewrites the operational pair

    const mode = (p: string) => statSync(p).mode & 0o777;
    const octal = (m: number) => m.toString(8).padStart(4, '0');
    assert.equal(mode(lab.workDir), 0o700, 'the lab work directory');
    const stores = readdirSync(clientsDir).map((name) => path.join(clientsDir, name));
    assert.equal(stores.length, 2);
    for (const store of stores) {
      assert.equal(mode(store), 0o700, `${store} is ${octal(mode(store))}`);
      const keys = readdirSync(store).filter((name) => name.endsWith('.key'));
      assert.deepEqual(keys.sort(), ['bootstrap.key', 'local.key'], store);
      for (const key of keys) assert.equal(mode(path.join(store, key)), 0o600, `${store}/${key} is ${octal(mode(path.join(store, key)))}`);
    }

    // Everywhere in the lab: whatever holds a private key (the intermediate's, the broker's, the
    // clients') is readable by its owner only, and so is every directory on the way to it.
    const holders = walk(lab.workDir).filter((f) => readFileSync(f).includes('PRIVATE KEY'));
    assert.ok(holders.length >= 6, `found only ${holders.length} files with a private key: ${holders.join(', ')}`);
    for (const file of holders) {
      assert.equal(mode(file) & 0o077, 0, `${path.relative(lab.workDir, file)} holds a private key and is ${octal(mode(file))}`);
      for (let dir = path.dirname(file); dir.startsWith(lab.workDir); dir = path.dirname(dir)) {
        assert.equal(mode(dir) & 0o077, 0, `${path.relative(lab.workDir, dir) || '.'} (above a key) is ${octal(mode(dir))}`);
      }
    }
    assert.equal(mode(lab.provisioning.auditLogFile), 0o600, 'the audit log');
  } finally {
    await responder.stop();
    await lab.stop();
  }
});
