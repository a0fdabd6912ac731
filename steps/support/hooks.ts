import { After, AfterAll, Before, BeforeAll, Status, setDefaultTimeout } from '@cucumber/cucumber';
import { readSince } from './logs.ts';
import { startLabSession, stopLabSession } from './lab-session.ts';
import type { LabWorld } from './world.ts';
import { flushClientLogs } from '../../simulators/client/client-log.ts';

// Real components: a provisioning round trip takes well under a second, but a cold start of
// step-ca on a loaded CI machine can take several.
setDefaultTimeout(60_000);

BeforeAll({ timeout: 120_000 }, async function () {
  await startLabSession();
});

// What the scenario declares it needs (@needs:<capability>): steps reaching for anything else fail.
Before(function (this: LabWorld, { pickle }) {
  this.scenarioTags = pickle.tags.map((t) => t.name);
});

After(async function (this: LabWorld, { result }) {
  // Which logs the cause assertions read, and where the target said they are.
  if (this.evidenceUsed.size > 0) this.attach(JSON.stringify([...this.evidenceUsed.values()], null, 1), { mediaType: 'application/json', fileName: 'evidence.json' });
  // Evidence for a failed scenario: what the broker logged while it ran (no keys are ever logged).
  const brokerLogMark = this.brokerProbe.last?.mark;
  if (result?.status === Status.FAILED && brokerLogMark) {
    this.attach(readSince(brokerLogMark).slice(-8000), { mediaType: 'text/plain', fileName: 'mosquitto.log' });
  }
  await this.cleanup();
  // The clients' log is evidence next to the components' logs: complete before the next scenario.
  await flushClientLogs();
});

AfterAll({ timeout: 60_000 }, async function () {
  await stopLabSession();
});
