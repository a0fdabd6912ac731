// The pages a stakeholder opens by a double click, opened the same way: from file:// in headless
// Chromium. A real one-scenario `ecm-lab run` writes the Allure report (one self-contained file),
// the traceability matrix and the run summary (HTML and PDF); each must show what the run
// produced, not a spinner, and none may carry a key, token or certificate. The perf report's
// labels are checked for overlaps as Chromium draws them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { repoRoot } from '../../environments/tools/tools.ts';
import { renderPerfHtml } from '../../evidence/perf/html.ts';
import { launchChromium, overlappingSvgTexts } from '../support/chromium.ts';
import { startCli } from '../support/cli.ts';
import { fullFlowSummary } from '../support/perf-fixture.ts';

// Its own reports directory: other integration tests run beside it (npm test runs two at a time).
const reports = mkdtempSync(path.join(os.tmpdir(), 'ecm-lab-evidence-'));
const SCENARIO = 'A client without a certificate is refused by the broker';
const EPIC = 'FR-MB-001 Mosquitto SHALL be configured for mTLS authentication';
const WAIT = { timeout: 20_000 };
// A failure's screenshot stays where CI keeps artifacts.
const SCREENSHOT = path.join(repoRoot, 'reports', 'screenshots', 'evidence-allure.png');
const adminToken = randomBytes(32).toString('base64url');
let browser: Browser | undefined;

before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  rmSync(reports, { recursive: true, force: true });
});

test('the perf report draws no label over another in Chromium (axis ticks, p99 / p99.9 / max, bar values)', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ecm-perf-layout-')), 'index.html');
  writeFileSync(file, renderPerfHtml(fullFlowSummary()));
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(pathToFileURL(file).href);
  await page.locator('figure.chart svg').first().waitFor(WAIT);
  assert.ok((await page.locator('svg text').count()) > 50, 'the charts have their labels');
  assert.deepEqual(await overlappingSvgTexts(page), []);
  await page.close();
});

test('after one real scenario, the Allure report, the matrix and the summary open from disk and show the run', { timeout: 240_000 }, async () => {
  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  const run = startCli(['run', '--out', reports, 'features/first-device.feature', '--name', SCENARIO], { ECM_LAB_ADMIN_TOKEN: adminToken });
  const { code } = await run.exit;
  assert.equal(code, 0, `${run.stdout().slice(-2000)}\n${run.stderr().slice(-2000)}`);

  // Allure: one file, no data directory to fetch from; the tree groups by requirement.
  const allure = path.join(reports, 'allure-report', 'index.html');
  assert.ok(!existsSync(path.join(reports, 'allure-report', 'data')), 'a single-file report has no data/ to fetch');
  const page = await browser!.newPage({ viewport: { width: 1300, height: 1000 } });
  const errors: Error[] = [];
  page.on('pageerror', (e) => errors.push(e));
  // A page an auditor opens must not call out: any request for a network host is recorded and
  // refused (the Allure template's tag manager was one; the lab cuts it out of the report).
  const outside: string[] = [];
  await page.route(/^(?!file:|data:|blob:)/, (route) => {
    outside.push(route.request().url());
    return route.abort();
  });
  try {
    await page.goto(pathToFileURL(allure).href);
    // The single-file report decodes its embedded data before it draws the tree: on a loaded 2-core
    // machine that once took longer than 20 s, and once in CI longer than 60 s (cause not known;
    // the failure now prints what the page showed), so the first paint gets two minutes.
    await page.getByText(EPIC).first().waitFor({ timeout: 120_000 });
    // Open the requirement's group, then its feature's unless the report opened that already.
    await page.getByText(EPIC).first().click();
    const feature = page.getByText('First device end to end').first();
    const scenario = page.getByText(SCENARIO).first();
    await feature.waitFor(WAIT);
    if (!(await scenario.isVisible())) await feature.click();
    await scenario.waitFor(WAIT);
  } catch (err) {
    // What the browser showed, for whoever reads the failure.
    await page.screenshot({ path: SCREENSHOT }).catch(() => undefined);
    const shown = await page.locator('body').innerText({ timeout: 5_000 }).catch((e: Error) => `(unreadable: ${e.message})`);
    const seen = `the page showed: ${JSON.stringify(shown.slice(0, 600))}; script errors: ${JSON.stringify(errors.map((e) => e.message))}; requests refused: ${JSON.stringify(outside)}`;
    throw Object.assign(err as Error, { message: `${(err as Error).message}\n${seen}\n(screenshot: ${SCREENSHOT})` });
  }
  assert.deepEqual(errors, [], 'no script error on file://');

  // The matrix: the requirement the scenario that ran names (partly shown: its other scenarios did
  // not run), a requirement nothing shows with its reason, and a deviation linked to the register.
  await page.goto(pathToFileURL(path.join(reports, 'traceability', 'index.html')).href);
  const row = page.locator('tr#FR-MB-001');
  await row.waitFor(WAIT);
  assert.match(await row.innerText(), new RegExp(`passed\\s+${SCENARIO}`));
  assert.match(await row.innerText(), /partly shown/);
  assert.match(await page.locator('tr#S004-EST-01').innerText(), /not shown[\s\S]*No scenario names it\. No EST server \(DEV-17\)/);
  assert.match(await page.locator('tr#FR-CA-001').innerText(), /deviation: DEV-02/);
  const matrix = JSON.parse(readFileSync(path.join(reports, 'traceability', 'traceability.json'), 'utf8')) as { totals: { byOutcome: { passed: number } }; run: { success: boolean } };
  assert.equal(matrix.totals.byOutcome.passed, 1);
  assert.equal(matrix.run.success, true);

  // The summary: this run, the environment the lab found, no perf run unless one is on disk.
  await page.goto(pathToFileURL(path.join(reports, 'summary', 'index.html')).href);
  const summary = await page.locator('body').innerText();
  assert.match(summary, /scenarios passed\s+1 \/ \d+/);
  assert.match(summary, /step-ca \d+\.\d+\.\d+/);
  assert.match(summary, /Attacks tried/);
  assert.match(summary, /Deviations register/);
  assert.match(summary, /No perf run|Latest load run/);
  // The route stays on the page: the report, the matrix and the summary were all opened under it.
  assert.deepEqual(outside, [], 'no evidence page asks a network host for anything');
  await page.close();
  const pdf = readFileSync(path.join(reports, 'summary', 'summary.pdf'));
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');

  // Nothing secret on any evidence page, in any of its forms.
  for (const dir of ['traceability', 'summary']) {
    for (const name of readdirSync(path.join(reports, dir)).filter((n) => !n.endsWith('.pdf'))) {
      const text = readFileSync(path.join(reports, dir, name), 'utf8');
      assert.ok(!text.includes('-----BEGIN'), `${dir}/${name}: a PEM block`);
      assert.ok(!/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\./.test(text), `${dir}/${name}: a JWT`);
      assert.ok(!text.includes(adminToken), `${dir}/${name}: the admin token`);
    }
  }
});
