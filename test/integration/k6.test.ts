// The k6 scripts against a real lab: small bounded runs of the bootstrap endpoint and of raw
// step-ca signing (every request answered, thresholds met, the summary JSON written with the
// iteration count asked for), the same test split over two k6 instances with execution segments
// and merged (iteration counts equal to a single run's). k6 comes from scripts/bootstrap.sh;
// without it these tests fail. The MQTT scripts need a k6 built with the xk6-mqtt extension,
// which these machines cannot build (see load/k6/README.md), so they are not run here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../environments/config.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { inspectTool, repoRoot } from '../../environments/tools/tools.ts';
import { compareWithSingle, mergeSummaries, readSummary, type K6Summary } from '../../load/k6/merge-summaries.ts';
import { openProvisioningForK6, prepareK6Fixtures, type PreparedFixtures } from '../../load/k6/prepare.ts';
import { ProvisioningAdminClient } from '../../services/provisioning/admin-client.ts';

const FIXTURE_COUNT = 20;
const perfDir = path.join(repoRoot, 'reports/perf');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
let lab: StartedLocalLab;
let fixtures: PreparedFixtures;

before(async () => {
  const config = loadConfig({ env: {} });
  lab = await startLocalLab(config);
  await openProvisioningForK6(lab, 600);
  // Under the lab's work directory: the keys go away with the lab.
  fixtures = await prepareK6Fixtures(lab, config, { outDir: path.join(lab.workDir, 'k6-fixtures'), count: FIXTURE_COUNT });
  mkdirSync(perfDir, { recursive: true });
});
after(() => lab?.stop());

/** The pinned k6, or a failure that says how to install it. */
async function k6Binary(needsMqtt = false): Promise<string> {
  const report = await inspectTool('k6');
  const usable = report.ok || (!needsMqtt && report.path !== undefined && report.version === report.pinned);
  const fix = report.problem?.includes('bash scripts/bootstrap.sh') ? '' : '; install it with: bash scripts/bootstrap.sh';
  assert.ok(usable && report.path, `k6 is not usable: ${report.problem}${fix}`);
  return report.path;
}

interface K6Run {
  code: number;
  output: string;
  summary: K6Summary;
  summaryFile: string;
}

/** One bounded `k6 run`: no usage report, no REST API port, no extension download, the lab root trusted. */
async function runK6(script: string, name: string, env: Record<string, string>, args: string[] = [], needsMqtt = false): Promise<K6Run> {
  const k6 = await k6Binary(needsMqtt);
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

test('execution segments: two k6 instances merge to the same iteration count as one', async () => {
  const total = { ITERATIONS: '40', VUS: '4' };
  const single = await runK6('bootstrap-endpoint.js', 'single-40', total);
  assert.equal(single.code, 0, single.output);
  const sequence = ['--execution-segment-sequence', '0,1/2,1'];
  const halves = await Promise.all([
    runK6('bootstrap-endpoint.js', 'segment-1of2', total, ['--execution-segment', '0:1/2', ...sequence]),
    runK6('bootstrap-endpoint.js', 'segment-2of2', total, ['--execution-segment', '1/2:1', ...sequence]),
  ]);
  for (const half of halves) {
    assert.equal(half.code, 0, half.output);
    assert.equal(values(half, 'iterations').count, 20, 'a shared-iterations executor splits exactly');
  }
  const merged = mergeSummaries(halves.map((h) => h.summary));
  const comparison = compareWithSingle(merged, single.summary);
  writeFileSync(path.join(perfDir, `k6-bootstrap-endpoint-${stamp}-merged.json`), JSON.stringify({ ...merged, comparison }, null, 2));
  assert.ok(comparison.ok, comparison.problems.join('; '));
  assert.equal(merged.metrics.iterations!.values.count, values(single, 'iterations').count);
  assert.equal(merged.metrics.http_req_failed!.values.passes, 0);
});
