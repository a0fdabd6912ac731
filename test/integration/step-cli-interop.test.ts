// The step CLI as a second, independent client of the lab's step-ca: if it agrees with our
// simulators on health and on X5C issuance, the lab's own token code is not the only witness.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../../environments/config.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { locateTool } from '../../environments/tools/tools.ts';
import { startChallengeResponder, type StartedChallengeResponder } from '../../simulators/acme/http01-responder.ts';
import { ReveosDevice, deviceSan } from '../../simulators/device/reveos-device.ts';
import { loopbackAddress } from '../../simulators/shared/addresses.ts';
import { inspectCertificate } from '../../simulators/shared/certificate-inspection.ts';
import { labEndpoints } from '../../simulators/shared/lab-endpoints.ts';
import { ProvisioningAdminClient } from '../../services/provisioning/admin-client.ts';

const run = promisify(execFile);
let lab: StartedLocalLab;
let responder: StartedChallengeResponder;
const step = locateTool('step');
const stepEnv = { ...process.env, STEPPATH: mkdtempSync(path.join(os.tmpdir(), 'ecm-steppath-')) };

before(async () => {
  lab = await startLocalLab(loadConfig({ env: {} }));
  responder = await startChallengeResponder(lab.bootstrapCa.acmeHttpPort);
});
after(async () => {
  await responder?.stop();
  await lab?.stop();
});

test('step ca health agrees that the lab CA is up', async () => {
  const { stdout } = await run(step, ['ca', 'health', '--ca-url', lab.ca.url, '--root', lab.ca.rootPem], { env: stepEnv });
  assert.equal(stdout.trim(), 'ok');
});

test('the step CLI trades a lab bootstrap certificate for a client-only operational one (X5C)', async () => {
  const device = new ReveosDevice(
    { deviceId: 'RVS-STEPCLI', serialNumber: 'SN-STEP', model: 'Reveos', firmwareVersion: '2.1' },
    { address: loopbackAddress(900, 3), storeDir: path.join(lab.workDir, 'step-cli-device'), endpoints: labEndpoints(lab, responder) },
  );
  const admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, readFileSync(lab.ca.rootPem, 'utf8'));
  await admin.turnOn();
  await admin.setWhitelist([device.address]);
  await device.provision();
  const out = path.join(lab.workDir, 'step-cli-device');
  await run(
    step,
    [
      'ca', 'certificate', 'RVS-STEPCLI', path.join(out, 'step.crt'), path.join(out, 'step.key'),
      '--provisioner', lab.ca.x5c.provisioner,
      '--x5c-cert', device.store.file('bootstrapCert'),
      '--x5c-key', device.store.file('bootstrapKey'),
      '--san', deviceSan('RVS-STEPCLI'),
      '--ca-url', lab.ca.url, '--root', lab.ca.rootPem, '--force',
    ],
    { env: stepEnv },
  );
  const facts = inspectCertificate(readFileSync(path.join(out, 'step.crt'), 'utf8'));
  assert.equal(facts.subjectCommonName, 'RVS-STEPCLI');
  assert.deepEqual(facts.extendedKeyUsages, ['clientAuth']);
  assert.deepEqual(facts.sans.uri, [deviceSan('RVS-STEPCLI')]);
});
