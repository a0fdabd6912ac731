// Attacks with credentials that must be dead: a revoked or expired bootstrap credential, ACME while
// the service is OFF or down, a replayed one-time token. All of them straight at step-ca.
import { Given, When } from '@cucumber/cucumber';
import { acmeAttempt } from '../../simulators/adversary/acme-attempts.ts';
import { expiredBootstrapCredential } from '../../simulators/adversary/forged-certificates.ts';
import { x5cSign, x5cToken, type X5cCredential } from '../../simulators/adversary/issuance-attempts.ts';
import { deviceSan } from '../../simulators/device/reveos-device.ts';
import { inspectCertificate } from '../../x509/certificates.ts';
import type { LabWorld } from '../support/world.ts';

/** The credential the attacker presents: its own bootstrap credential, unless a step gave it another. */
const credentialOf = (world: LabWorld): X5cCredential => world.attackerCredential ?? world.attacker!.store.loadBootstrap()!;

async function ownIdentityToken(world: LabWorld): Promise<{ ott: string; identity: string; sans: string[] }> {
  const identity = world.attacker!.identity.deviceId;
  const sans = [deviceSan(identity)];
  return { ott: await x5cToken({ credential: credentialOf(world), ...world.session.endpoints.x5c, identity, sans }), identity, sans };
}

Given(/^the service engineer revokes the (attacker|first device|device)'s bootstrap credential$/, async function (this: LabWorld, who: string) {
  const holder = who === 'attacker' ? this.attacker! : who === 'device' ? this.lastDevice : this.devices[0]!;
  await this.admin.revoke(inspectCertificate(holder.store.loadBootstrap()!.certificateChainPem).serialNumber, 'keyCompromise');
});

Given("the attacker holds a bootstrap credential of the lab's bootstrap CA that expired an hour ago", async function (this: LabWorld) {
  this.attackerCredential = await expiredBootstrapCredential(this.owned('ca-keys').pki.bootstrapIntermediate, this.attacker!.address);
});

Given('the provisioning service process is stopped', async function (this: LabWorld) {
  const { provisioningService } = this.owned('restart-service');
  await provisioningService.stop();
  this.onCleanup(() => provisioningService.restart());
});

Given('the attacker captured the X5C token of its own successful request', async function (this: LabWorld) {
  const token = await ownIdentityToken(this);
  const { lab, endpoints } = this.session;
  const first = await x5cSign({ caUrl: lab.ca.url, rootPem: endpoints.trustedRootPem, ...token, from: this.attacker!.address });
  if (!first.certificatePem) throw new Error(`the genuine request was refused (HTTP ${first.status}: ${first.detail})`);
  this.capturedToken = token.ott;
});

When('the attacker trades its bootstrap credential for an operational certificate directly at step-ca', async function (this: LabWorld) {
  const { lab, endpoints } = this.session;
  const token = await ownIdentityToken(this);
  await this.attack.run(() => x5cSign({ caUrl: lab.ca.url, rootPem: endpoints.trustedRootPem, ...token, from: this.attacker!.address }));
});

When('the attacker sends the same token again with a new key directly at step-ca', async function (this: LabWorld) {
  const { lab, endpoints } = this.session;
  const identity = this.attacker!.identity.deviceId;
  await this.attack.run(() => x5cSign({ caUrl: lab.ca.url, rootPem: endpoints.trustedRootPem, ott: this.capturedToken!, identity, sans: [deviceSan(identity)], from: this.attacker!.address }));
});

When('the attacker orders a bootstrap certificate for its own address by ACME directly at the bootstrap CA and answers its challenge', async function (this: LabWorld) {
  const { lab, endpoints, responder } = this.session;
  const address = this.attacker!.address;
  await this.attack.run(() => acmeAttempt({ directoryUrl: lab.bootstrapCa.acmeDirectoryUrl, trustedCaPem: endpoints.bootstrapRootPem, from: address, identifier: { type: 'ip', value: address }, responder }));
});
