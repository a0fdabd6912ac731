// A device process that dies in the middle of a renewal: after step-ca has issued the renewed
// certificate (its own log says so) and before the device wrote the answer to its store. That is
// the one moment a crash can lose an issued certificate; cut any earlier and step-ca never sees
// the request, any later and the store already holds the new pair.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { markLog, readSince } from '../../environments/log-watch.ts';
import { waitFor } from '../../environments/wait.ts';
import { parseIssuanceLine } from '../../services/provisioning/issuance-feed.ts';
import { inspectCertificate, normalizeSerial } from '../../x509/certificates.ts';
import type { InterruptedRenewal } from './scenario-facts.ts';
import type { LabWorld } from './world.ts';

const serialOf = (chainPem: string) => normalizeSerial(inspectCertificate(chainPem).serialNumber);

/** step-ca's log line reporting the renewal of `serial` (path /1.0/renew), once it is written. */
function renewalLogged(mark: ReturnType<typeof markLog>, serial: string): Promise<string> {
  return waitFor(
    `step-ca's log line of the renewal that issued ${serial}`,
    () =>
      readSince(mark)
        .split('\n')
        .find((line) => {
          const issued = line.includes('certificate=') ? parseIssuanceLine(line) : undefined;
          return issued?.path === '/1.0/renew' && normalizeSerial(new X509Certificate(issued.der).serialNumber) === serial;
        }),
    { timeoutMs: 5000 },
  );
}

/** Renews, lets step-ca issue, kills the process before the store is written, and restarts it from its store. */
export async function restartBetweenIssuanceAndStore(world: LabWorld): Promise<InterruptedRenewal> {
  const device = world.lastDevice;
  const heldSerial = serialOf(device.store.loadOperational()!.certificateChainPem);
  const mark = markLog(world.logFile('step-ca'));
  const death = new AbortController();
  let issued: { serial: string; line: string } | undefined;
  const ended = await device
    .renewCertificate(death.signal, {
      answered: async (chainPem) => {
        const serial = serialOf(chainPem);
        issued = { serial, line: await renewalLogged(mark, serial) };
        death.abort(new Error('the device process died'));
      },
    })
    .then(() => 'stored', (error: Error) => (death.signal.aborted ? 'cut off' : error));
  // A driver without the hook (a command line) or a renewal that failed never reaches the cut.
  assert.ok(issued, `the renewal never reached the point between issuance and store: ${String(ended)}`);
  assert.equal(ended, 'cut off', 'the device stored the answer before it died');
  await device.disconnect();
  world.restartDevice(device);
  return { heldSerial, issuedSerial: issued.serial, stepCaLine: issued.line };
}

/** After the restart: the store kept the old pair (the answer was lost), and it is valid; step-ca's issuance is on record. */
export function assertCameBackOnHeldCertificate(world: LabWorld, cut: InterruptedRenewal): void {
  const device = world.lastDevice;
  const outcome = world.powerUps.get(device)!;
  assert.deepEqual(outcome.path, ['validating', 'connecting', 'connected'], `power-up after the cut: ${outcome.path.join(' > ')}`);
  const stored = serialOf(device.store.loadOperational()!.certificateChainPem);
  assert.equal(stored, cut.heldSerial, 'the store holds another certificate than the one held before the renewal');
  assert.notEqual(stored, cut.issuedSerial, 'the store holds the certificate the process died before storing');
  assert.equal(device.validateStore().valid, true, 'the store holds a valid certificate');
  world.attach(JSON.stringify({ ...cut, stepCaLine: cut.stepCaLine.replace(/certificate=\S+/, 'certificate=(base64 DER)') }, null, 1), { mediaType: 'application/json', fileName: 'interrupted-renewal.json' });
}
