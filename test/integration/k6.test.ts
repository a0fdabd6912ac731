// The k6 scripts against a real lab: small bounded runs of the bootstrap endpoint, of raw step-ca
// signing and of the MQTT connect storm and publish load with a client certificate per device
// (every request answered or message delivered, thresholds met, the summary JSON written with the
// counts asked for); a foreign certificate refused by the broker and counted; the same test split
// over two k6 instances with execution segments and merged (counts equal to a single run's).
// k6 with the lab's MQTT extension comes from scripts/bootstrap.sh; without it these tests fail.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig, type LabConfig } from '../../environments/config.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { crlUrl } from '../../environments/pki/ca-json.ts';
import { inspectTool, repoRoot } from '../../environments/tools/tools.ts';
import { compareWithSingle, mergeSummaries, readSummary, type K6Summary } from '../../load/k6/merge-summaries.ts';
import { openProvisioningForK6, prepareK6Fixtures, type PreparedFixtures } from '../../load/k6/prepare.ts';
import { ProvisioningAdminClient } from '../../services/provisioning/admin-client.ts';
import { forgeClientCertificate } from '../../simulators/shared/forged-certificates.ts';

const FIXTURE_COUNT = 20;
const perfDir = path.join(repoRoot, 'reports/perf');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
let config: LabConfig;
let lab: StartedLocalLab;
let fixtures: PreparedFixtures;

before(async () => {
  config = loadConfig({ env: {} });
  lab = await startLocalLab(config);
  await openProvisioningForK6(lab, 600);
  // Under the lab's work directory: the keys go away with the lab.
  fixtures = await prepareK6Fixtures(lab, config, { outDir: path.join(lab.workDir, 'k6-fixtures'), count: FIXTURE_COUNT });
  mkdirSync(perfDir, { recursive: true });
});
after(() => lab?.stop());

/** The pinned k6 with the MQTT extension, or a failure that says how to install it. */
async function k6Binary(): Promise<string> {
  const report = await inspectTool('k6');
  const fix = report.problem?.includes('bash scripts/bootstrap.sh') ? '' : '; install it with: bash scripts/bootstrap.sh';
  assert.ok(report.ok && report.path, `k6 is not usable: ${report.problem}${fix}`);
  return report.path;
}

interface K6Run {
  code: number;
  output: string;
  summary: K6Summary;
  summaryFile: string;
}

/** One bounded `k6 run`: no usage report, no REST API port, no extension download, the lab root trusted. */
async function runK6(script: string, name: string, env: Record<string, string>, args: string[] = []): Promise<K6Run> {
  const k6 = await k6Binary();
  const summaryFile = path.join(perfDir, `k6-${script.replace(/\.js$/, '')}-${stamp}-${name}.json`);
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      k6,
      ['run', '--quiet', '--no-usage-report', '--address', '', ...args, path.join(repoRoot, 'load/k6', script)],
      {
        cwd: repoRoot,
        timeout: 120_000,
        maxBuffer: 16 << 20,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          K6_NO_USAGE_REPORT: 'true',
          K6_AUTO_EXTENSION_RESOLUTION: 'false',
          SSL_CERT_FILE: lab.ca.rootPem,
          FIXTURES: fixtures.file,
          SUMMARY_PATH: summaryFile,
          MAX_DURATION: '30s',
          ...env,
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, output: `${stdout}${stderr}` }),
    );
  });
  assert.ok(existsSync(summaryFile), `k6 wrote no summary ${summaryFile} (exit ${code}):\n${output}`);
  return { code, output, summary: readSummary(summaryFile), summaryFile };
}

const values = (run: K6Run, metric: string) => run.summary.metrics[metric]?.values ?? {};

test('bootstrap endpoint: every CSR gets a chain within the NFR-PERF-001 threshold', async () => {
  const run = await runK6('bootstrap-endpoint.js', 'single-20', { ITERATIONS: String(FIXTURE_COUNT), VUS: '4' });
  assert.equal(run.code, 0, run.output);
  assert.equal(values(run, 'iterations').count, FIXTURE_COUNT);
  assert.equal(values(run, 'http_reqs').count, FIXTURE_COUNT);
  assert.equal(values(run, 'http_req_failed').passes, 0, 'failed requests');
  const admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, readFileSync(lab.ca.rootPem, 'utf8'));
  assert.equal((await admin.inventory('K6-BOOT-0')).length, 1, 'the service recorded what it issued');
});

test('ca-sign: step-ca signs every {csr, ott} once; a token used twice is refused', async () => {
  const run = await runK6('ca-sign.js', 'single-20', { VUS: '4' });
  assert.equal(run.code, 0, run.output);
  assert.equal(values(run, 'iterations').count, FIXTURE_COUNT);
  assert.equal(values(run, 'http_req_failed').passes, 0, 'failed requests');

  const replay = await runK6('ca-sign.js', 'replayed-tokens', { VUS: '1', ITERATIONS: '2' });
  assert.equal(replay.code, 99, `thresholds must fail on replayed tokens:\n${replay.output}`);
  assert.equal(values(replay, 'http_req_failed').passes, 2);
});

/**
 * The same test as one k6 instance and as two with execution segments 0:1/2 and 1/2:1, run side
 * by side; the halves' summaries merged and compared with the single run (written beside them).
 */
async function singleAndHalves(script: string, env: Record<string, string>) {
  const single = await runK6(script, 'single', env);
  assert.equal(single.code, 0, single.output);
  const sequence = ['--execution-segment-sequence', '0,1/2,1'];
  const halves = await Promise.all([
    runK6(script, 'segment-1of2', env, ['--execution-segment', '0:1/2', ...sequence]),
    runK6(script, 'segment-2of2', env, ['--execution-segment', '1/2:1', ...sequence]),
  ]);
  for (const half of halves) assert.equal(half.code, 0, half.output);
  const merged = mergeSummaries(halves.map((h) => h.summary));
  const comparison = compareWithSingle(merged, single.summary);
  writeFileSync(path.join(perfDir, `k6-${script.replace(/\.js$/, '')}-${stamp}-merged.json`), JSON.stringify({ ...merged, comparison }, null, 2));
  return { single, halves, merged, comparison };
}

test('execution segments: two k6 instances merge to the same iteration count as one', async () => {
  const { single, halves, merged, comparison } = await singleAndHalves('bootstrap-endpoint.js', { ITERATIONS: '40', VUS: '4' });
  for (const half of halves) assert.equal(values(half, 'iterations').count, 20, 'a shared-iterations executor splits exactly');
  assert.ok(comparison.ok, comparison.problems.join('; '));
  assert.equal(merged.metrics.iterations!.values.count, values(single, 'iterations').count);
  assert.equal(merged.metrics.http_req_failed!.values.passes, 0);
});

test('mqtt-connect-storm: every device connects with its own certificate within NFR-PERF-002', async () => {
  const run = await runK6('mqtt-connect-storm.js', 'single-20', { VUS: '5' });
  assert.equal(run.code, 0, run.output);
  assert.equal(values(run, 'iterations').count, FIXTURE_COUNT);
  assert.equal(values(run, 'mqtt_connected').passes, FIXTURE_COUNT, run.output);
  assert.equal(values(run, 'mqtt_connect_duration').count, FIXTURE_COUNT);
  assert.ok(values(run, 'mqtt_connect_duration')['p(99)']! < 1000, 'connect p99 under 1 s');
});

test('mqtt-connect-storm: a certificate from a foreign CA is refused, counted and named; the rest connect', async () => {
  const foreign = await forgeClientCertificate('foreign CA', lab.pki.intermediate, crlUrl(config.ca, lab.stepCa.port), 'K6-0');
  const dir = fixtures.dir;
  writeFileSync(path.join(dir, 'K6-0-foreign.crt'), foreign.chainPem, { mode: 0o600 });
  writeFileSync(path.join(dir, 'K6-0-foreign.key'), foreign.privateKeyPem, { mode: 0o600 });
  const variant = structuredClone(fixtures.fixtures);
  variant.mqtt!.clients[0] = { cn: 'K6-0', cert: 'K6-0-foreign.crt', key: 'K6-0-foreign.key' };
  const variantFile = path.join(dir, 'fixtures-foreign.json');
  writeFileSync(variantFile, JSON.stringify(variant), { mode: 0o600 });

  const run = await runK6('mqtt-connect-storm.js', 'foreign-ca', { VUS: '5', DEVICES: '5', FIXTURES: variantFile });
  assert.equal(run.code, 99, `the rate==1 threshold must fail:\n${run.output}`);
  assert.equal(values(run, 'mqtt_connect_refused').count, 1);
  assert.equal(values(run, 'mqtt_connected').passes, 4, 'the other devices are unaffected');
  // With TLS 1.3 the broker checks the client certificate after the client has finished its side
  // of the handshake: the client reads the broker's alert, or, when the broker's reset arrives
  // first and discards it, the reset. Either way the device is named and the connect refused.
  assert.match(run.output, /K6-0: .*K6-0-storm connect: .*(tls: unknown certificate authority|connection reset by peer)/, 'the refusal names the device and its cause');
});

test('mqtt-publish: QoS 1 telemetry from distinct devices is delivered, none lost, within NFR-PERF-002', async () => {
  const run = await runK6('mqtt-publish.js', 'single-10x20', { VUS: '10', MESSAGES: '20', INTERVAL_MS: '10' });
  assert.equal(run.code, 0, run.output);
  assert.equal(values(run, 'mqtt_messages_sent').count, 200);
  assert.equal(values(run, 'mqtt_messages_received').count, 200);
  assert.equal(values(run, 'mqtt_messages_lost').count, 0);
  assert.equal(values(run, 'mqtt_delivery_duration').count, 200);
  assert.ok(values(run, 'mqtt_delivery_duration')['p(99)']! < 1000, 'delivery p99 under 1 s');
});

test('execution segments: two k6 MQTT instances use disjoint devices and merge to a single run', async () => {
  // Two sessions with one client id would knock each other off and lose messages.
  const { halves, merged, comparison } = await singleAndHalves('mqtt-publish.js', { VUS: '10', MESSAGES: '20', INTERVAL_MS: '10' });
  for (const half of halves) assert.equal(values(half, 'iterations').count, 5);
  assert.ok(comparison.ok, comparison.problems.join('; '));
  assert.equal(merged.metrics.mqtt_messages_received!.values.count, 200);
  assert.equal(merged.metrics.mqtt_messages_lost!.values.count, 0);
});

