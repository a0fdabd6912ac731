// The admin page (NFR-USE-001) driven as an operator would: a real browser (Debian Chromium through
// playwright-core) against a real lab, every visible result cross-checked with the admin REST API.
// No fixed sleeps: every wait is a Playwright auto-waiting locator or a wait for a page condition.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../config/config.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { repoRoot } from '../../environments/tools/tools.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';

const CHROMIUM = '/usr/bin/chromium';
const WAIT = { timeout: 10_000 };
const SCREENSHOT = path.join(repoRoot, 'reports/screenshots/admin-page.png');

let lab: StartedLocalLab | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let api: ProvisioningAdminClient;
/** Uncaught errors of the page's own script; every test ends by checking there were none. */
const pageErrors: Error[] = [];

async function cleanup(): Promise<void> {
  // Each step on its own, so a failing close still lets the lab stop (and no process is left).
  await context?.close().catch((err) => console.error('closing the browser context failed:', err));
  await browser?.close().catch((err) => console.error('closing Chromium failed:', err));
  await lab?.stop();
  context = browser = lab = undefined;
}

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the admin page test needs Debian's chromium package; install it with: bash scripts/bootstrap.sh`);
  }
  try {
    lab = await startLocalLab(loadConfig({ env: {} }));
    api = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, readFileSync(lab.ca.rootPem, 'utf8'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // The service's certificate comes from the CA each lab creates for itself at start-up. Chromium
    // only trusts its NSS store, and adding a throw-away root there would change the user's
    // profile on every run, so certificate errors are ignored in this (isolated) browser context.
    // The TLS chain itself is still verified: the ProvisioningAdminClient checks against
    // lab.ca.rootPem on every cross-check below, and the provisioning API tests cover TLS.
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 900 } });
  } catch (err) {
    await cleanup();
    throw err;
  }
});

after(cleanup);

/** A fresh tab (its own sessionStorage, so no token carried over) with the admin page loaded. */
async function openAdminPage(): Promise<Page> {
  const page = await context!.newPage();
  page.on('pageerror', (err) => pageErrors.push(err));
  await page.goto(`${lab!.provisioning.url}/admin`);
  await page.locator('#connect').waitFor(WAIT);
  return page;
}

async function connect(page: Page, token: string): Promise<void> {
  await page.locator('#token').fill(token);
  await page.locator('#connect').click();
}

function assertNoScriptErrors(): void {
  assert.deepEqual(pageErrors.splice(0).map((e) => e.message), [], 'the admin page script threw');
}

const exactly = (text: string) => new RegExp(`^${text}$`);

async function waitForStatus(page: Page, status: 'ON' | 'OFF'): Promise<void> {
  await page.locator('#status').filter({ hasText: exactly(status) }).waitFor(WAIT);
}

/** Waits until the page's white list shows exactly these entries, in this order. */
async function waitForWhitelist(page: Page, expected: string[]): Promise<void> {
  try {
    await page.waitForFunction(
      (want) => JSON.stringify([...document.querySelectorAll('#whitelist li')].map((li) => li.textContent)) === JSON.stringify(want),
      expected,
      WAIT,
    );
  } catch (err) {
    const shown = await page.locator('#whitelist li').allTextContents();
    throw new Error(`the page's white list shows ${JSON.stringify(shown)}, expected ${JSON.stringify(expected)} (${(err as Error).message})`);
  }
}

async function errorText(page: Page): Promise<string> {
  const error = page.locator('#error');
  await error.filter({ hasText: /\S/ }).waitFor(WAIT);
  return (await error.textContent())!.trim();
}

test('an operator connects, turns the service ON, saves a white list and turns it OFF', async () => {
  await api.turnOff();
  const page = await openAdminPage();
  try {
    await connect(page, lab!.provisioning.adminToken);
    await waitForStatus(page, 'OFF');
    assert.equal(await page.locator('#error').textContent(), '');

    // Auto-off left empty: ON without a timer.
    assert.equal(await page.locator('#autoOff').inputValue(), '');
    await page.locator('#turnOn').click();
    await waitForStatus(page, 'ON');
    assert.equal((await page.locator('#remaining').textContent())!.trim(), '', 'no auto-off timer was set');
    assert.equal((await api.state()).enabled, true);

    await page.locator('#whitelistInput').fill('127.0.0.5\n10.0.0.0/24');
    await page.locator('#saveWhitelist').click();
    await waitForWhitelist(page, ['127.0.0.5', '10.0.0.0/24']);
    assert.deepEqual(await api.whitelist(), ['127.0.0.5', '10.0.0.0/24'], 'the REST API agrees with the page');

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.locator('#turnOff').click();
    await waitForStatus(page, 'OFF');
    await waitForWhitelist(page, []);
    const state = await api.state();
    assert.equal(state.enabled, false, 'the REST API agrees the service is OFF');
    assert.deepEqual(state.whitelist, [], 'turning OFF cleared the white list');
    assert.deepEqual(await api.whitelist(), []);
    assert.equal(await page.locator('#error').textContent(), '');
    assertNoScriptErrors();
  } finally {
    await page.close();
  }
});

test('a wrong token shows an error and no data', async () => {
  // Data that the page must not show to someone with a wrong token.
  await api.turnOn();
  await api.setWhitelist(['192.168.7.7']);
  const noData = async (page: Page) => {
    assert.equal(await errorText(page), 'the admin token is wrong');
    assert.doesNotMatch((await page.locator('#status').textContent())!, /^(ON|OFF)$/);
    assert.equal((await page.locator('#remaining').textContent())!.trim(), '');
    assert.equal(await page.locator('#whitelist li').count(), 0);
    assert.equal(await page.locator('#inventory tr').count(), 0);
    assert.equal(await page.locator('#audit tr').count(), 0);
    assert.doesNotMatch(await page.locator('body').innerText(), /192\.168\.7\.7/);
  };
  const page = await openAdminPage();
  try {
    // A fresh tab: nothing is shown at any time.
    await connect(page, 'not-the-admin-token');
    await noData(page);
    // Its next periodic refresh fails the same way.
    await page.waitForResponse((r) => r.url().endsWith('/api/v1/admin/state') && r.status() === 401, WAIT);
    await noData(page);

    // The same tab works with the right token...
    await connect(page, lab!.provisioning.adminToken);
    await waitForStatus(page, 'ON');
    await waitForWhitelist(page, ['192.168.7.7']);
    await page.locator('#error').filter({ hasText: exactly('') }).waitFor({ ...WAIT, state: 'attached' });
    assert.ok((await page.locator('#audit tr').count()) > 0);

    // ...and a wrong token typed afterwards takes the data off the screen, not just adds an error.
    await connect(page, 'another-wrong-token');
    await page.locator('#status').filter({ hasText: exactly('unknown') }).waitFor(WAIT);
    await noData(page);
    assertNoScriptErrors();
  } finally {
    await page.close();
    await api.turnOff();
  }
});

test('an invalid white list entry shows the precise error and leaves the list unchanged', async () => {
  await api.turnOff();
  const page = await openAdminPage();
  try {
    await connect(page, lab!.provisioning.adminToken);
    await waitForStatus(page, 'OFF');
    await page.locator('#turnOn').click();
    await waitForStatus(page, 'ON');
    await page.locator('#whitelistInput').fill('127.0.0.5\n10.0.0.0/24');
    await page.locator('#saveWhitelist').click();
    await waitForWhitelist(page, ['127.0.0.5', '10.0.0.0/24']);

    await page.locator('#whitelistInput').fill('127.0.0.5\n10.0.0.300');
    await page.locator('#saveWhitelist').click();
    assert.equal(await errorText(page), '"10.0.0.300" is not a valid IPv4 or IPv6 address');
    assert.deepEqual(await page.locator('#whitelist li').allTextContents(), ['127.0.0.5', '10.0.0.0/24']);
    assert.deepEqual(await api.whitelist(), ['127.0.0.5', '10.0.0.0/24'], 'the REST API kept the previous list');

    // The message stays until the operator acts again, not just until the next periodic refresh.
    await page.waitForResponse((r) => r.url().endsWith('/api/v1/admin/state') && r.request().method() === 'GET' && r.ok(), WAIT);
    await page.locator('#status').filter({ hasText: exactly('ON') }).waitFor(WAIT);
    assert.equal(await errorText(page), '"10.0.0.300" is not a valid IPv4 or IPv6 address');
    assert.equal(await page.locator('#whitelist li').count(), 2);
    assertNoScriptErrors();
  } finally {
    await page.close();
    await api.turnOff();
  }
});

test('turning ON with auto-off 30 s shows the remaining time', async () => {
  await api.turnOff();
  const page = await openAdminPage();
  try {
    await connect(page, lab!.provisioning.adminToken);
    await waitForStatus(page, 'OFF');
    await page.locator('#autoOff').fill('30');
    await page.locator('#turnOn').click();
    await waitForStatus(page, 'ON');
    const remaining = page.locator('#remaining');
    await remaining.filter({ hasText: /\d+ s/ }).waitFor(WAIT);
    const seconds = Number(/(\d+) s/.exec((await remaining.textContent())!)![1]);
    assert.ok(seconds > 0 && seconds <= 30, `remaining time ${seconds} s is within the 30 s auto-off`);
    const state = await api.state();
    assert.equal(state.enabled, true);
    assert.ok(state.remainingSeconds !== null && state.remainingSeconds > 0 && state.remainingSeconds <= 30);
    assert.ok(state.autoOffAt !== null, 'the REST API has the auto-off deadline');
    assertNoScriptErrors();
  } finally {
    await page.close();
    await api.turnOff();
  }
});
