// The step CLI, the device's real client in seed 000, as an independent client of the lab: it
// gets its bootstrap credential by ACME http-01 (standalone: it answers the challenge itself)
// through the provisioning service's gate, its operational certificate by X5C and its renewal
// through the CA URL the lab publishes (the service's), and the broker accepts what it got.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../../config/config.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { locateTool } from '../../environments/tools/tools.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';
import { ReveosDevice } from '../../simulators/device/reveos-device.ts';
import { loopbackAddress } from '../../simulators/client/addresses.ts';
import { inspectCertificate } from '../../x509/certificates.ts';
import { labEndpoints } from '../../simulators/client/lab-endpoints.ts';
import { StepCliDriver } from '../../simulators/client/step-cli-driver.ts';

const run = promisify(execFile);
let lab: StartedLocalLab;
let admin: ProvisioningAdminClient;
const step = locateTool('step');
const stepEnv = { ...process.env, STEPPATH: mkdtempSync(path.join(os.tmpdir(), 'ecm-steppath-')) };

before(async () => {
  lab = await startLocalLab(loadConfig({ env: {} }));
  admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, readFileSync(lab.ca.rootPem, 'utf8'));
});
after(() => lab?.stop());

test('step ca health agrees that the CA URL the lab publishes is up', async () => {
  const { stdout } = await run(step, ['ca', 'health', '--ca-url', lab.provisioning.url, '--root', lab.ca.rootPem], { env: stepEnv });
  assert.equal(stdout.trim(), 'ok');
});

test('the step CLI as a device: ACME standalone through the gate, X5C and renewal through the service, then MQTT', async () => {
  const address = loopbackAddress(900, 3);
  const driver = new StepCliDriver({ http01: { mode: 'standalone', port: lab.bootstrapCa.acmeHttpPort } });
  const device = new ReveosDevice(
    { deviceId: 'RVS-STEPCLI', serialNumber: 'SN-STEP', model: 'Reveos', firmwareVersion: '2.1' },
    // No challenge responder in this lab: the step CLI answers http-01 itself.
    { address, storeDir: path.join(lab.workDir, 'step-cli-device'), endpoints: labEndpoints(lab, { publish: () => undefined, remove: () => undefined }), driver },
  );
  await admin.turnOn();
  // The step CLI cannot bind a source address: the gate sees 127.0.0.1; step-ca proves the device's own.
  await admin.setWhitelist(['127.0.0.1', address]);
  try {
    await device.provision();
    const bootstrap = inspectCertificate(device.store.loadBootstrap()!.certificateChainPem);
    assert.deepEqual(bootstrap.sans.ip, [address]);
    await device.getCertificate({ lifetimeSeconds: 3600 });
    const first = inspectCertificate(device.store.loadOperational()!.certificateChainPem);
    assert.equal(first.subjectCommonName, 'RVS-STEPCLI');
    assert.deepEqual(first.extendedKeyUsages, ['clientAuth']);
    await device.connect();
    await device.renewCertificate();
    const renewed = inspectCertificate(device.store.loadOperational()!.certificateChainPem);
    assert.notEqual(renewed.serialNumber, first.serialNumber);
    assert.equal(device.connected, true, 'the MQTT session moved to the renewed certificate');
    for (const key of ['bootstrapKey', 'operationalKey'] as const) assert.equal(statSync(device.store.file(key)).mode & 0o777, 0o600, `the step CLI wrote ${key} readable by others`);
    const via = (await admin.inventory()).filter((c) => c.deviceId === 'RVS-STEPCLI' || c.deviceId === address).map((c) => c.via).sort();
    assert.deepEqual(via, ['acme', 'renewal', 'x5c']);
  } finally {
    await device.disconnect();
  }
});
