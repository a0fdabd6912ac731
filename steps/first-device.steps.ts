import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { Given, Then, When } from '@cucumber/cucumber';
import { deviceSan } from '../simulators/device/reveos-device.ts';
import { chainsToRoot, inspectCertificate } from '../x509/certificates.ts';
import type { LabWorld } from './support/world.ts';

Given('a running lab', async function (this: LabWorld) {
  await this.installationAnswers();
});

When('a new device is provisioned', async function (this: LabWorld) {
  const device = this.createDevice();
  await device.join({ connect: false });
});

Then('it holds an operational certificate issued by the lab CA with clientAuth EKU and its identity in the SAN', async function (this: LabWorld) {
  const device = this.lastDevice;
  const stored = device.store.loadOperational();
  assert.ok(stored, 'the device store has no operational certificate');
  assert.ok(chainsToRoot(stored.certificateChainPem, this.session.endpoints.trustedRootPem), 'the certificate does not chain to the lab root');
  const facts = inspectCertificate(stored.certificateChainPem);
  // The issuing intermediate as it is now (UC-04 replaces it during the run).
  assert.equal(facts.issuerCommonName, await this.currentIssuerName());
  assert.deepEqual(facts.extendedKeyUsages, ['clientAuth'], 'operational certificates are client-only');
  assert.equal(facts.subjectCommonName, device.identity.deviceId);
  assert.ok(facts.sans.uri.includes(deviceSan(device.identity.deviceId)), `SAN URIs ${facts.sans.uri.join(', ')} lack the device identity`);
  assert.equal(statSync(device.store.file('operationalKey')).mode & 0o777, 0o600, 'the private key must be 0600');
  // Evidence for the report: the certificate's facts, never its contents or its key.
  this.attach(JSON.stringify(facts, null, 1), { mediaType: 'application/json', fileName: `certificate-${device.identity.deviceId}.json` });
});

Then('its telemetry reaches the application over mTLS', async function (this: LabWorld) {
  await this.runningApplication();
  const device = this.lastDevice;
  await device.connect();
  const received = await this.telemetryReachesApplication(device, { heartRate: 72 });
  assert.equal(received.topic, device.telemetryTopic);
  assert.deepEqual(received.message.readings, { heartRate: 72 });
});
