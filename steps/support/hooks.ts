import { After, AfterAll, BeforeAll, Status, setDefaultTimeout } from '@cucumber/cucumber';
import { readSince } from '../../environments/log-watch.ts';
import { startLabSession, stopLabSession } from './lab-session.ts';
import type { LabWorld } from './world.ts';

// Real components: a provisioning round trip takes well under a second, but a cold start of
// step-ca on a loaded CI machine can take several.
setDefaultTimeout(60_000);

BeforeAll({ timeout: 120_000 }, async function () {
  await startLabSession();
});

After(async function (this: LabWorld, { result }) {
  // Evidence for a failed scenario: what the broker logged while it ran (no keys are ever logged).
  if (result?.status === Status.FAILED && this.brokerLogMark) {
    this.attach(readSince(this.brokerLogMark).slice(-8000), { mediaType: 'text/plain', fileName: 'mosquitto.log' });
  }
  await this.cleanup();
});

AfterAll({ timeout: 60_000 }, async function () {
  await stopLabSession();
});
