// The command-line driver interface (a team's own certificate client, run once per operation)
// with the step CLI behind it (examples/drivers/step-cli-driver.sh), against the real lab: ACME
// through the gate, X5C, renewal, MQTT; and a refusal reported as a refusal, not a crash.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../config/config.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { locateTool } from '../../environments/tools/tools.ts';
import { ProvisioningAdminClient } from '../../services/provisioning/admin-client.ts';
import { startChallengeResponder, type StartedChallengeResponder } from '../../simulators/acme/http01-responder.ts';
import { ProvisioningRefusedError } from '../../simulators/client/acme-bootstrap.ts';
import { loopbackAddress } from '../../simulators/client/addresses.ts';
import { CommandLineDriver } from '../../simulators/client/command-line-driver.ts';
import { labEndpoints } from '../../simulators/client/lab-endpoints.ts';
import { ReveosDevice } from '../../simulators/device/reveos-device.ts';
import { inspectCertificate } from '../../x509/certificates.ts';

const SCRIPT = path.resolve('examples/drivers/step-cli-driver.sh');
let lab: StartedLocalLab;
let admin: ProvisioningAdminClient;
let responder: StartedChallengeResponder;
let webroot: string;

before(async () => {
  lab = await startLocalLab(loadConfig({ env: {} }));
  admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, readFileSync(lab.ca.rootPem, 'utf8'));
  webroot = path.join(lab.workDir, 'driver-webroot');
  mkdirSync(path.join(webroot, '.well-known', 'acme-challenge'), { recursive: true });
  responder = await startChallengeResponder(lab.bootstrapCa.acmeHttpPort, { webroot: path.join(webroot, '.well-known', 'acme-challenge') });
});
after(async () => {
  await responder?.stop();
  await lab?.stop();
});

function device(id: string, index: number): ReveosDevice {
  const driver = new CommandLineDriver({ command: ['bash', SCRIPT], env: { STEP: locateTool('step') }, http01Webroot: webroot });
  return new ReveosDevice(
    { deviceId: id, serialNumber: `SN-${id}`, model: 'Reveos', firmwareVersion: '2.1' },
    { address: loopbackAddress(index, 7), storeDir: path.join(lab.workDir, id), endpoints: labEndpoints(lab, responder), driver },
  );
}

test('provision, get-certificate and renew through the command-line driver, then MQTT', async () => {
  const d = device('RVS-CMDLINE', 1);
  await admin.turnOn();
  // The step CLI's requests come from 127.0.0.1; step-ca proves the device's own address.
  await admin.setWhitelist(['127.0.0.1', d.address]);
  await d.provision();
  assert.deepEqual(inspectCertificate(d.store.loadBootstrap()!.certificateChainPem).sans.ip, [d.address]);
  await d.getCertificate({ lifetimeSeconds: 3600 });
  const first = inspectCertificate(d.store.loadOperational()!.certificateChainPem);
  assert.equal(first.subjectCommonName, 'RVS-CMDLINE');
  assert.equal(statSync(d.store.file('operationalKey')).mode & 0o777, 0o600);
  await d.connect();
  await d.renewCertificate();
  const renewed = inspectCertificate(d.store.loadOperational()!.certificateChainPem);
  assert.notEqual(renewed.serialNumber, first.serialNumber);
  assert.equal(d.connected, true);
  await d.disconnect();
});

test('a refusal (the service is OFF) is a ProvisioningRefusedError with the step CLI\'s words', async () => {
  await admin.turnOff();
  const d = device('RVS-CMDLINE-OFF', 2);
  const since = new Date().toISOString();
  // Not any refusal: the service's own words for OFF, passed on by the step CLI...
  await assert.rejects(d.provision(), (err: unknown) => err instanceof ProvisioningRefusedError && /the provisioning service is OFF/.test(err.message));
  assert.equal(d.store.loadBootstrap(), undefined);
  // ...and the service's audit record of that request (the step CLI's come from 127.0.0.1), with the reason code for OFF.
  const refusal = (await admin.audit(50)).find((r) => r.time >= since && r.decision === 'refused' && r.sourceIp === '127.0.0.1');
  assert.equal(refusal?.reason, 'service-off', JSON.stringify(refusal));
});
