// ecm-lab compose <role>: what each container of compose.yaml runs (environments/compose/).
// Every role logs one JSON line per event on stdout (`podman-compose logs <service>` shows them)
// and stops cleanly on SIGTERM (`down`).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { COMPOSE_DIRS, COMPOSE_PORTS, composeConfig, composeInit, readComposeService } from '../../environments/compose/compose-stack.ts';
import { renderAcl } from '../../environments/local/mosquitto-config.ts';
import { waitFor } from '../../environments/wait.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';
import { startProvisioningService } from '../../services/provisioning/server.ts';
import { ACME_CHALLENGE_PATH, startChallengeResponder } from '../../simulators/acme/http01-responder.ts';
import { LumiaApplication } from '../../simulators/app/lumia-application.ts';
import { ReveosDevice } from '../../simulators/device/reveos-device.ts';
import { attachedEndpoints, readLabDescription, webrootPublisher } from '../../load/fleet-lab.ts';

const event = (name: string, fields: Record<string, unknown> = {}) => console.log(JSON.stringify({ at: new Date().toISOString(), event: name, ...fields }));

/** Resolves on SIGTERM/SIGINT (compose down, Ctrl-C). */
const terminated = () => new Promise<NodeJS.Signals>((resolve) => ['SIGTERM', 'SIGINT'].forEach((s) => process.once(s, () => resolve(s as NodeJS.Signals))));

/** The other containers start together with init: each role waits for its finished installation. */
const installation = () =>
  waitFor('the init container to write the installation (public/lab.json)', () => {
    try {
      return readLabDescription(path.join(COMPOSE_DIRS.public, 'lab.json'));
    } catch {
      return false;
    }
  }, { timeoutMs: 120_000, intervalMs: 200 });

async function provisioning(): Promise<void> {
  const d = await installation();
  const config = composeConfig();
  const settings = readComposeService();
  const pem = (file: string) => readFileSync(file, 'utf8');
  const applicationIdentities = new Set<string>();
  const service = await startProvisioningService({
    host: '127.0.0.1',
    httpsPort: COMPOSE_PORTS.serviceHttps,
    httpPort: COMPOSE_PORTS.serviceHttp,
    hooksPort: COMPOSE_PORTS.serviceHooks,
    tls: settings.tls,
    ca: { url: d.ca.url, rootPem: pem(`${COMPOSE_DIRS.pki}/root_ca.crt`), intermediatePem: pem(`${COMPOSE_DIRS.pki}/intermediate_ca.crt`), audienceHost: config.ca.dnsNames[0]!, jwkProvisioner: 'provisioning-service', privateJwk: settings.jwk.privateJwk, x5cProvisioner: config.ca.x5cProvisioner },
    bootstrapCa: { url: `https://127.0.0.1:${COMPOSE_PORTS.bootstrapCa}`, rootPem: pem(`${COMPOSE_DIRS.pki}/bootstrap_root_ca.crt`), intermediatePem: pem(`${COMPOSE_DIRS.pki}/bootstrap_intermediate_ca.crt`), audienceHost: config.ca.dnsNames[0]!, jwkProvisioner: 'provisioning-service', privateJwk: settings.jwk.privateJwk, acmeProvisioner: config.ca.acmeProvisioner },
    trust: { applicationIdentity: config.broker.applicationIdentity, reservedIdentities: config.trust.reservedIdentities, deviceNetwork: config.trust.deviceNetwork, deviceIdOid: config.trust.deviceIdOid },
    dataDir: path.join(COMPOSE_DIRS.provisioning, 'data'),
    adminToken: settings.adminToken,
    supersededGraceMs: config.provisioning.supersededGraceDays * config.clock.dayMs,
    // No lab process signals the broker here: the CRL and ACL are written where it reads them at
    // its next start (the lab's backends also reload it and disconnect the identity at once).
    onRevoked: async (revoked) => {
      if (revoked.crlPem) writeFileSync(`${COMPOSE_DIRS.mosquitto}/crl.pem`, revoked.crlPem);
      event('revoked', { identity: revoked.identity, serial: revoked.serial, reason: revoked.reason });
    },
    onApplicationEnrolled: async (identity) => {
      applicationIdentities.add(identity);
      writeFileSync(`${COMPOSE_DIRS.mosquitto}/acl`, renderAcl(config.broker, [...applicationIdentities]), { mode: 0o600 });
    },
  });
  // The service engineer's step (seed 000): ON, for the devices' network and the application
  // server (its address, named with its identity: no device can take that name).
  const admin = new ProvisioningAdminClient(service.url, settings.adminToken, pem(`${COMPOSE_DIRS.pki}/root_ca.crt`));
  const network = process.env.ECM_LAB_COMPOSE_WHITELIST ?? `127.20.0.0/24,127.0.0.1=${config.broker.applicationIdentity}`;
  await admin.turnOn();
  await admin.setWhitelist(network.split(','));
  event('provisioning-on', { url: service.url, whitelist: network.split(',') });
  await terminated();
  await service.stop();
}

async function responder(): Promise<void> {
  const d = await installation();
  const challenges = path.join(d.acmeWebroot!, ...ACME_CHALLENGE_PATH);
  mkdirSync(challenges, { recursive: true, mode: 0o700 });
  const started = await startChallengeResponder(d.bootstrapCa.acmeHttpPort, { webroot: challenges });
  event('responder-listening', { port: d.bootstrapCa.acmeHttpPort });
  await terminated();
  await started.stop();
}

async function lumia(): Promise<void> {
  const d = await installation();
  let received = 0;
  const app = new LumiaApplication({ address: '127.0.0.1', storeDir: COMPOSE_DIRS.app, endpoints: attachedEndpoints(d, webrootPublisher(d)), keepReceived: false, reconnectPeriodMs: 1000, onTelemetry: (t) => {
    received++;
    if (received === 1 || received % 50 === 0) event('telemetry', { received, topic: t.topic });
  } });
  const outcome = await app.powerUp({ onTransition: (t) => event('transition', { ...t }) });
  event('power-up', { identity: 'lumia', state: outcome.state, path: outcome.path });
  await terminated();
  await app.disconnect();
}

async function device(): Promise<void> {
  const d = await installation();
  const address = process.env.DEVICE_ADDRESS ?? '127.20.0.1';
  const serial = process.env.DEVICE_SERIAL ?? 'RVS-COMPOSE-1';
  const publisher = webrootPublisher(d);
  const reveos = new ReveosDevice(
    { deviceId: serial, serialNumber: serial, model: 'Reveos R2', firmwareVersion: '2.1' },
    { address, storeDir: COMPOSE_DIRS.device, endpoints: attachedEndpoints(d, publisher), reconnectPeriodMs: 1000 },
  );
  // The service may still be starting: power-up retries with its backoff until it answers.
  const outcome = await reveos.powerUp({ backoff: { maxAttempts: 30, maxMs: 2000 }, onTransition: (t) => event('transition', { ...t }) });
  const validation = 'validation' in outcome ? outcome.validation : undefined;
  // stored: the certificate in the device's volume was valid at power-up, so it connected without provisioning.
  event('power-up', { identity: serial, address, state: outcome.state, path: outcome.path, stored: validation?.valid ?? false, reason: validation && !validation.valid ? validation.reason : undefined });
  if (outcome.state !== 'connected') process.exit(1);
  const timer = setInterval(() => void reveos.publishTelemetry().catch((err: Error) => event('publish-failed', { message: err.message })), 1000);
  await terminated();
  clearInterval(timer);
  await reveos.disconnect();
  await publisher.stop();
}

export async function composeCommand(role: string): Promise<void> {
  const roles: Record<string, () => Promise<void>> = { init: () => composeInit((line) => event('init', { message: line })), provisioning, responder, lumia, device };
  const run = roles[role];
  if (!run) throw new Error(`unknown compose role ${role}: one of ${Object.keys(roles).join(', ')}`);
  await run();
  process.exit(0);
}
