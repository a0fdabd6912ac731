// The lab: the two step-ca authorities, Mosquitto and the provisioning service (and, with ca.issuer
// 'external', the external CA) started as modules (environments/modules/) in a private work
// directory, with logs under reports/logs/<lab id>/, wherever the placement runs them: child
// processes (environments/local/, the default) or containers (environments/containers/). This file
// is the trust wiring of docs/trust-model.md, in start order: which root each component trusts,
// where step-ca's webhooks point, who gets the CRL and the disconnects; restarts and rotations are
// methods of the started lab.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LabConfig } from '../config/config.ts';
import { bootstrapProvisioners, crlUrl, operationalProvisioners } from './pki/ca-json.ts';
import { LabAuthority } from './pki/lab-authority.ts';
import type { LabPki } from './pki/lab-pki.ts';
import type { ComponentProcess, StartedLab } from './started-lab.ts';
import type { Placement, PlacementFactory } from './modules/placement.ts';
import { freePort } from './modules/ports.ts';
import { startAuthority, type LabStepCa } from './lab/authority.ts';
import { LabBroker } from './lab/broker.ts';
import { Cleanups } from './lab/cleanups.ts';
import { placedConfig, serverNamesOf } from './lab/listen-address.ts';
import { CrlPublisher } from './lab/crl-publisher.ts';
import { PkiRotations, type PkiRotation } from './lab/pki-rotation.ts';
import { prepareService, startService, type LabService } from './lab/service.ts';
import { EXTERNAL_CA_CLIENT, serviceHooks, serviceOptions } from './lab/service-wiring.ts';
import { ExternalCaProcess, type StartedExternalCa } from './local/external-ca.ts';
import { localPlacement } from './local/local-placement.ts';
import { stopOnSignal } from './local/shutdown.ts';

export type LabComponent = 'step-ca' | 'bootstrap-ca' | 'mosquitto' | 'provisioning-service';

/**
 * What the lab offers beyond the contract, on either placement: the lab's own CAs, for tests that
 * forge certificates, its components, for scenarios that restart them, and its rotations.
 */
export interface OwnedLab extends StartedLab {
  config: LabConfig;
  pki: LabPki;
  /** The operational authority. */
  stepCa: LabStepCa;
  bootstrapStepCa: LabStepCa;
  mosquitto: LabBroker;
  /** The provisioning service's process; restart() keeps its ports, token and data (NFR-REL-002). */
  provisioningService: LabService;
  /** Where the broker reads the issuing CA's CRL; refreshed on a schedule and after every revocation. */
  crlFile: string;
  crlPublisher: CrlPublisher;
  /** Each revocation's disconnect, as measured by the lab (revocation answered by step-ca to broker confirmed). */
  readonly disconnects: { identity: string; serial: string; ms: number }[];
  /** The external CA (ca.issuer 'external'): its own process, holding the operational root's key. */
  externalCa: StartedExternalCa | undefined;
  /** Every replacement of the operational CA material: who started it, why, and how it ended. */
  readonly rotations: PkiRotation[];
  /** A new process (or container) of that component on its ports, configuration and data. */
  restart(component: LabComponent): Promise<void>;
  /**
   * Replaces the operational CA material and restarts every component on it (UC-04, UC-05):
   * 'intermediate' — the root revokes the issuing intermediate and signs a new one; the old
   * intermediate's final CRL lists every certificate it issued, so the broker refuses them.
   * 'root' — a new operational root and intermediate; certificates under the old root are unknown.
   * The bootstrap hierarchy stays: devices re-acquire with their bootstrap credentials.
   * With ca.issuer 'external' neither applies: the external CA owns the root, and the service
   * replaces the intermediate by itself once that CA revokes it.
   */
  rotatePki(kind: 'intermediate' | 'root'): Promise<void>;
  /** CRLs clients use to check whole chains: the root's CRL and retired intermediates' final CRLs. */
  chainCrls(): string[];
}

export type { PkiRotation } from './lab/pki-rotation.ts';

export { EXTERNAL_CA_CLIENT } from './lab/service-wiring.ts';

export interface LabOptions {
  /**
   * Stop the lab on SIGINT/SIGTERM (default). Commands that must do something first on Ctrl-C
   * (write a partial report) turn this off and stop the lab themselves.
   */
  handleSignals?: boolean;
  /** Where the components run; child processes (the local placement) by default. */
  placement?: PlacementFactory;
}

function newLabId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Where one lab lives: its private work directory (keys) and its log directory. */
interface LabHome {
  id: string;
  workDir: string;
  ownsWorkDir: boolean;
  logsDir: string;
  logs: Record<LabComponent, string> & { 'external-ca'?: string };
}

function labHome(config: LabConfig): LabHome {
  const id = newLabId();
  const ownsWorkDir = config.workDir === '';
  const workDir = ownsWorkDir ? mkdtempSync(path.join(os.tmpdir(), 'ecm-lab-')) : path.resolve(config.workDir, id);
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const logsDir = path.resolve(config.logsDir, id);
  mkdirSync(logsDir, { recursive: true });
  const names = ['step-ca', 'bootstrap-ca', 'mosquitto', 'provisioning-service', ...(config.ca.issuer === 'external' ? ['external-ca'] : [])];
  const logs = Object.fromEntries(names.map((name) => [name, path.join(logsDir, `${name}.log`)])) as LabHome['logs'];
  return { id, workDir, ownsWorkDir, logsDir, logs };
}

export async function startOwnedLab(configured: LabConfig, options: LabOptions = {}): Promise<OwnedLab> {
  const config = placedConfig(configured);
  const home = labHome(config);
  const cleanups = new Cleanups();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await cleanups.run();
      } finally {
        unregister();
        if (home.ownsWorkDir) rmSync(home.workDir, { recursive: true, force: true });
      }
    })());
  const unregister = options.handleSignals === false ? () => undefined : stopOnSignal(stop);
  try {
    const placement = await (options.placement ?? localPlacement)({ id: home.id, workDir: home.workDir, logsDir: home.logsDir, config });
    // Registered first, so it runs last: after every component has stopped.
    cleanups.add(() => placement.close());
    const trust = await startTrust(config, placement, home, cleanups);
    const parts = await startComponents(config, placement, home, trust, cleanups);
    return ownedLab(config, home, placement.backend, trust, parts, stop);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

type Trust = Awaited<ReturnType<typeof startTrust>>;
type Parts = Awaited<ReturnType<typeof startComponents>>;

/**
 * What both authorities' ca.json need before they start: the provisioning service's keys (both
 * name its JWK, step-ca's webhooks point at its hook listener, whose port it holds from now on),
 * and the CA material, under the lab's own root or (ca.issuer 'external') a third party's, which
 * holds the root's key in its own process and signs the lab's intermediate for a CSR of a key the
 * lab keeps for step-ca, ordered by the service (whose credential it is).
 */
async function startTrust(config: LabConfig, placement: Placement, home: LabHome, cleanups: Cleanups) {
  const external = config.ca.issuer === 'external';
  const serverNames = serverNamesOf(config);
  const serviceSetup = {
    dataDir: path.join(home.workDir, 'provisioning'),
    keyAlgorithm: config.pki.keyAlgorithm,
    provisioner: 'provisioning-service',
    logFile: home.logs['provisioning-service'],
    readinessTimeoutMs: config.readinessTimeoutMs,
    externalCaClient: external ? EXTERNAL_CA_CLIENT : undefined,
    hooks: { host: config.provisioning.host, port: 0 },
    serverNames,
  };
  const preparedService = await prepareService(placement, serviceSetup);
  cleanups.add(() => preparedService.stop());
  let externalCa: StartedExternalCa | undefined;
  if (external) {
    externalCa = await new ExternalCaProcess()
      .withLabConfig(config)
      .withDirectory(path.join(home.workDir, 'external-ca'))
      .withLogFile(home.logs['external-ca']!)
      .withClients([{ name: EXTERNAL_CA_CLIENT, publicJwk: preparedService.externalCaClientJwk! }])
      .start();
    cleanups.add(() => externalCa!.stop());
  }
  const pkiDir = path.join(home.workDir, 'pki');
  const authority = externalCa
    ? await LabAuthority.underExternalRoot(config.pki, pkiDir, {
        rootPem: externalCa.rootPem,
        order: async (csrPem) => (await preparedService.orderIntermediate({ apiUrl: externalCa.apiUrl, rootPem: externalCa.rootPem, client: EXTERNAL_CA_CLIENT, csrPem })).certificatePem,
      })
    : await LabAuthority.create(config.pki, pkiDir);
  return { serviceSetup, preparedService, externalCa, authority, serverNames };
}

/** The two authorities, the broker and the service, in start order, with the trust wiring between them. */
async function startComponents(config: LabConfig, placement: Placement, home: LabHome, trust: Trust, cleanups: Cleanups) {
  const { authority, preparedService, serviceSetup, externalCa, serverNames } = trust;
  const { pki, files: pkiFiles } = authority;
  const serviceJwk = { name: serviceSetup.provisioner, publicKey: preparedService.publicJwk as Record<string, unknown> };
  const webhookBaseUrl = `https://${config.provisioning.host}:${preparedService.hooksPort}`;
  const provisionerInput = { config: config.ca, serviceJwk, webhookBaseUrl, deviceIdOid: config.trust.deviceIdOid };

  // step-ca validates http-01 on this port of each identifier: the lab's challenge responder
  // (started by whoever drives the devices) listens there.
  const acmeHttpPort = config.ca.acmeHttpPort || (await freePort(config.ca.host));
  const bootstrapStepCa = await startAuthority({
    placement,
    name: 'bootstrap-ca',
    config,
    host: config.ca.host,
    port: config.ca.bootstrapPort,
    roots: { rootCert: pkiFiles.bootstrapRootCert, intermediateCert: pkiFiles.bootstrapIntermediateCert, intermediateKey: pkiFiles.bootstrapIntermediateKey },
    provisioners: ({ crlUrl }) => bootstrapProvisioners({ ...provisionerInput, crlUrl }),
    acmeHttpPort,
    // Its webhook client must trust the service's TLS certificate, which is operational: Go's
    // system pool (which step-ca adds its own roots to) reads this file. Re-read at a restart.
    env: { SSL_CERT_FILE: pkiFiles.rootCert },
    dir: path.join(home.workDir, 'bootstrap-ca'),
    logFile: home.logs['bootstrap-ca'],
  });
  cleanups.add(() => bootstrapStepCa.stop());
  const stepCa = await startAuthority({
    placement,
    name: 'step-ca',
    config,
    host: config.ca.host,
    port: config.ca.port,
    roots: { rootCert: pkiFiles.rootCert, intermediateCert: pkiFiles.intermediateCert, intermediateKey: pkiFiles.intermediateKey },
    // Only bootstrap credentials may sign an X5C token: the X5C roots are the bootstrap root.
    provisioners: ({ crlUrl }) => operationalProvisioners({ ...provisionerInput, crlUrl, x5cRootsPem: pki.bootstrapRoot.certificatePem }),
    dir: path.join(home.workDir, 'step-ca'),
    logFile: home.logs['step-ca'],
  });
  cleanups.add(() => stepCa.stop());

  const broker = await LabBroker.start({
    placement,
    config,
    authority,
    host: config.broker.host,
    serverNames,
    dir: path.join(home.workDir, 'mosquitto'),
    logFile: home.logs.mosquitto,
    caCrlUrl: crlUrl(config.ca, stepCa.port),
    stepCaUrl: () => stepCa.url,
  });
  cleanups.add(() => broker.stop());

  const disconnects: OwnedLab['disconnects'] = [];
  // Assigned once started; the service's hooks may run before startService() returns.
  let provisioningService: LabService | undefined;
  // Everything that trusts or uses the intermediate, restarted on the new material (UC-04, UC-05).
  const rotations = new PkiRotations({
    authority,
    externalCa,
    issuedSerials: (issuer) => provisioningService!.issuedSerials(issuer),
    async restartOnNewPki() {
      await stepCa.restart();
      // Its webhook client trusts the operational root through SSL_CERT_FILE, read at start.
      await bootstrapStepCa.restart();
      await broker.restartOnNewPki();
      await provisioningService!.restart();
    },
  });
  const wiring = { config, authority, stepCa, bootstrapStepCa, broker, externalCa, serverNames, dataDir: serviceSetup.dataDir, provisioner: serviceSetup.provisioner, disconnects, rotations };
  provisioningService = await startService(placement, preparedService, serviceSetup, () => serviceOptions(wiring), serviceHooks(wiring));
  cleanups.add(() => provisioningService!.stop());
  // Registered last, so it runs first: a rotation under way ends before anything stops.
  cleanups.add(() => rotations.settled());
  return { stepCa, bootstrapStepCa, broker, provisioningService, disconnects, rotations, acmeHttpPort };
}

/** The started lab: the contract's endpoints (started-lab.ts) and the lab's own hold on its components. */
function ownedLab(config: LabConfig, home: LabHome, backend: Placement['backend'], trust: Trust, parts: Parts, stop: () => Promise<void>): OwnedLab {
  const { authority, externalCa, serviceSetup } = trust;
  const { stepCa, bootstrapStepCa, broker, provisioningService, rotations } = parts;
  const pkiFiles = authority.files;
  const components: Record<LabComponent, { restart(): Promise<void> }> = { 'step-ca': stepCa, 'bootstrap-ca': bootstrapStepCa, mosquitto: broker, 'provisioning-service': provisioningService };
  return {
    id: home.id,
    backend,
    config,
    workDir: home.workDir,
    pki: authority.pki,
    stepCa,
    bootstrapStepCa,
    mosquitto: broker,
    provisioningService,
    crlFile: broker.crlFile,
    crlPublisher: broker.crlPublisher,
    disconnects: parts.disconnects,
    externalCa,
    rotations: rotations.records,
    restart: (component) => components[component].restart(),
    rotatePki: (kind) => rotations.rotate(kind),
    chainCrls: () => authority.chainCrls(),
    ca: {
      url: stepCa.url,
      rootPem: pkiFiles.rootCert,
      caBundlePem: pkiFiles.caBundle,
      x5c: { provisioner: config.ca.x5cProvisioner, audience: `https://${config.ca.dnsNames[0]}/1.0/sign#x5c/${config.ca.x5cProvisioner}` },
      jwkProvisioner: serviceSetup.provisioner,
    },
    bootstrapCa: {
      url: bootstrapStepCa.url,
      rootPem: pkiFiles.bootstrapRootCert,
      acmeDirectoryUrl: `${bootstrapStepCa.url}/acme/${config.ca.acmeProvisioner}/directory`,
      acmeHttpPort: parts.acmeHttpPort,
      jwkProvisioner: serviceSetup.provisioner,
    },
    broker: { host: broker.host, port: broker.port, url: broker.url, legacyPort: broker.legacyPort, crlFile: broker.crlFile },
    provisioning: provisioningService,
    externalCaEndpoints: externalCa && { publicUrl: externalCa.publicUrl, crlUrl: externalCa.crlUrl, apiUrl: externalCa.apiUrl, rootPem: externalCa.rootCertFile },
    logs: { ...home.logs, 'provisioning-audit': provisioningService.auditLogFile },
    processes: (): ComponentProcess[] => [
      { name: 'step-ca', pid: stepCa.pid, logFile: stepCa.logFile },
      { name: 'bootstrap-ca', pid: bootstrapStepCa.pid, logFile: bootstrapStepCa.logFile },
      { name: 'mosquitto', pid: broker.pid, logFile: broker.logFile },
      { name: 'provisioning-service', pid: provisioningService.pid, logFile: provisioningService.logFile },
      ...(externalCa ? [{ name: 'external-ca', pid: externalCa.pid, logFile: externalCa.logFile }] : []),
    ],
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
