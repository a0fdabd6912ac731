// The lab's wiring, for both backends: the two step-ca authorities, Mosquitto and the provisioning
// service on free loopback ports, in a private work directory, with logs under
// reports/logs/<lab id>/. The wiring of the trust model (docs/trust-model.md) is here: which root
// each component trusts, where step-ca's webhooks point, who gets the CRL and the disconnects.
// It only wires (the components and the CA material are modules of their own), in start order.
// Where each component runs is the runtime's business (environments/components.ts): child
// processes here (the default, the local backend), or containers with host networking and the
// work directory at the same path (environments/containers/, the containers backend).
// Its length is deliberate: the start order and the trust wiring read top to bottom in one file.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { firmwarePolicy, type LabConfig } from '../../config/config.ts';
import type { ComponentRuntime } from '../components.ts';
import type { ComponentProcess, StartedLab } from '../started-lab.ts';
import { crlUrl, renderBootstrapCaJson, renderOperationalCaJson } from '../pki/ca-json.ts';
import type { CaCertificate } from '../../x509/certificate-authority.ts';
import { LabAuthority } from '../pki/lab-authority.ts';
import type { LabPki } from '../pki/lab-pki.ts';
import { fetchCrlPem } from '../../net/step-ca-api.ts';
import type { LegacyCredentialChange, RevocationEvent } from '../../services/provisioning/context.ts';
import { legacyTopicRoot } from '../../config/firmware-policy.ts';
import { startExternalCa, type StartedExternalCa } from './external-ca.ts';
import { PkiRotations, type PkiRotation } from './pki-rotation.ts';
import type { ServiceProcessOptions } from '../../services/provisioning/process-protocol.ts';
import { BrokerAdmin } from './broker-admin.ts';
import { localRuntime } from './local-runtime.ts';
import { CrlPublisher } from './crl-publisher.ts';
import { BROKER_ADMIN_IDENTITY } from './mosquitto-config.ts';
import { startMosquitto, type StartedMosquitto } from './mosquitto.ts';
import { freePort } from './ports.ts';
import { prepareProvisioningProcess, startProvisioningProcess, type ProvisioningServiceProcess } from './provisioning-process.ts';
import { stopOnSignal } from './shutdown.ts';
import { startStepCa, type StartedStepCa } from './step-ca.ts';

/**
 * What the lab offers beyond the contract, on either backend (the name is older than the
 * containers backend): the lab's own CAs, for tests that forge certificates, and its components,
 * for scenarios that restart them.
 */
export interface StartedLocalLab extends StartedLab {
  config: LabConfig;
  pki: LabPki;
  /** The operational authority. */
  stepCa: StartedStepCa;
  bootstrapStepCa: StartedStepCa;
  mosquitto: StartedMosquitto;
  /** The provisioning service's process; restart() keeps its ports, token and data (NFR-REL-002). */
  provisioningService: ProvisioningServiceProcess;
  /** Where the broker reads the issuing CA's CRL; refreshed on a schedule and after every revocation. */
  crlFile: string;
  crlPublisher: CrlPublisher;
  /** Each revocation's disconnect, as measured by the lab (revocation answered by step-ca to broker confirmed). */
  readonly disconnects: { identity: string; serial: string; ms: number }[];
  /** The external CA (ca.issuer 'external'): its own process, holding the operational root's key. */
  externalCa: StartedExternalCa | undefined;
  /** Every replacement of the operational CA material: who started it, why, and how it ended. */
  readonly rotations: PkiRotation[];
  /**
   * Replaces the operational CA material and restarts every component on it (UC-04, UC-05):
   * 'intermediate' — the root revokes the issuing intermediate and signs a new one; the old
   * intermediate's final CRL lists every certificate it issued, so the broker refuses them.
   * 'root' — a new operational root and intermediate; certificates under the old root are unknown.
   * The bootstrap hierarchy stays: devices re-acquire with their bootstrap credentials.
   * Devices are not touched: finding out is their job.
   * With ca.issuer 'external' neither applies: the external CA owns the root, and the service
   * replaces the intermediate by itself once that CA revokes it (installIntermediate below).
   */
  rotatePki(kind: 'intermediate' | 'root'): Promise<void>;
  /** CRLs clients use to check whole chains: the root's CRL and retired intermediates' final CRLs. */
  chainCrls(): string[];
}

export type { PkiRotation } from './pki-rotation.ts';

/** The service's name at the external CA. */
export const EXTERNAL_CA_CLIENT = 'provisioning-service';

export interface LocalLabOptions {
  /**
   * Stop the lab on SIGINT/SIGTERM (default). Commands that must do something first on Ctrl-C
   * (write a partial report) turn this off and stop the lab themselves.
   */
  handleSignals?: boolean;
  /**
   * Where the components run, made once the lab has its id and directories (both are mounted
   * into containers at the same paths). Default: child processes (the local backend).
   */
  runtime?: (lab: { id: string; workDir: string; logsDir: string; config: LabConfig }) => Promise<ComponentRuntime>;
}

function newLabId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Cleanups run one after the other, last registered first: a component stops before what it depends on. */
class Cleanups {
  readonly #steps: Array<() => Promise<void>> = [];

  add(step: () => Promise<void>): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    const failures: unknown[] = [];
    while (this.#steps.length > 0) {
      try {
        await this.#steps.pop()!();
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'some lab components failed to stop');
  }
}

/** The broker's server certificate (files), its readiness probe's and its administrator's credentials, from the current intermediate. */
async function brokerCredentials(authority: LabAuthority, dir: string, caCrlUrl: string) {
  const server = await authority.serverCertificate();
  const files = { cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') };
  writeFileSync(files.cert, server.certificateChainPem);
  writeFileSync(files.key, server.privateKeyPem, { mode: 0o600 });
  const probe = await authority.clientCertificate('ecm-lab-readiness-probe', caCrlUrl);
  return { files, probe: { cert: probe.certificateChainPem, key: probe.privateKeyPem }, admin: await authority.clientCertificate(BROKER_ADMIN_IDENTITY, caCrlUrl) };
}

export async function startLocalLab(config: LabConfig, options: LocalLabOptions = {}): Promise<StartedLocalLab> {
  const id = newLabId();
  const ownsWorkDir = config.workDir === '';
  const workDir = ownsWorkDir ? mkdtempSync(path.join(os.tmpdir(), 'ecm-lab-')) : path.resolve(config.workDir, id);
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const logsDir = path.resolve(config.logsDir, id);
  mkdirSync(logsDir, { recursive: true });
  const external = config.ca.issuer === 'external';
  const components = ['step-ca', 'bootstrap-ca', 'mosquitto', 'provisioning-service', ...(external ? ['external-ca'] : [])];
  const logs = Object.fromEntries(components.map((name) => [name, path.join(logsDir, `${name}.log`)])) as Record<'step-ca' | 'bootstrap-ca' | 'mosquitto' | 'provisioning-service', string> & { 'external-ca'?: string };

  const cleanups = new Cleanups();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await cleanups.run();
      } finally {
        unregister();
        if (ownsWorkDir) rmSync(workDir, { recursive: true, force: true });
      }
    })());
  const unregister = options.handleSignals === false ? () => undefined : stopOnSignal(stop);

  try {
    const runtime = options.runtime ? await options.runtime({ id, workDir, logsDir, config }) : localRuntime(config);
    // Registered first, so it runs last: after every component has stopped.
    cleanups.add(() => runtime.close());
    // The provisioning service makes its own keys first: both ca.json files name its JWK,
    // step-ca's webhooks point at its hook listener, and an external CA knows its credential.
    const serviceSetup = {
      dataDir: path.join(workDir, 'provisioning'),
      keyAlgorithm: config.pki.keyAlgorithm,
      provisioner: 'provisioning-service',
      logFile: logs['provisioning-service'],
      readinessTimeoutMs: config.readinessTimeoutMs,
      runtime,
      externalCaClient: external ? EXTERNAL_CA_CLIENT : undefined,
    };
    const preparedService = await prepareProvisioningProcess(serviceSetup);
    cleanups.add(() => preparedService.stop());

    // ca.issuer 'external': a third party holds the operational root's key, in its own process;
    // the lab's intermediate is its subordinate, ordered by the service (whose credential it is)
    // for a CSR of a key the lab keeps for step-ca.
    let externalCa: StartedExternalCa | undefined;
    if (external) {
      externalCa = await startExternalCa({
        config,
        dir: path.join(workDir, 'external-ca'),
        logFile: logs['external-ca']!,
        clients: [{ name: EXTERNAL_CA_CLIENT, publicJwk: preparedService.externalCaClientJwk! }],
      });
      cleanups.add(() => externalCa!.stop());
    }
    const authority = externalCa
      ? await LabAuthority.underExternalRoot(config.pki, path.join(workDir, 'pki'), {
          rootPem: externalCa.rootPem,
          order: async (csrPem) => (await preparedService.orderIntermediate({ apiUrl: externalCa.apiUrl, rootPem: externalCa.rootPem, client: EXTERNAL_CA_CLIENT, csrPem })).certificatePem,
        })
      : await LabAuthority.create(config.pki, path.join(workDir, 'pki'));
    const { pki, files: pkiFiles } = authority;
    const serviceJwk = { name: serviceSetup.provisioner, publicKey: preparedService.publicJwk as Record<string, unknown> };
    const hooksPort = await freePort(config.provisioning.host);
    const webhookBaseUrl = `https://${config.provisioning.host}:${hooksPort}`;

    const acmeHttpPort = config.ca.acmeHttpPort || (await freePort(config.ca.host));
    const bootstrapStepCa = await startStepCa({
      name: 'bootstrap-ca',
      config,
      port: config.ca.bootstrapPort,
      rootCertFile: pkiFiles.bootstrapRootCert,
      files: { root: pkiFiles.bootstrapRootCert, intermediateCert: pkiFiles.bootstrapIntermediateCert, intermediateKey: pkiFiles.bootstrapIntermediateKey },
      renderCaJson: (port, files) => renderBootstrapCaJson({ config: config.ca, port, files, serviceJwk, webhookBaseUrl }),
      acmeHttpPort,
      // Its webhook client must trust the service's TLS certificate, which is operational: Go's
      // system pool (which step-ca adds its own roots to) reads this file. Re-read at a restart.
      env: { SSL_CERT_FILE: pkiFiles.rootCert },
      dir: path.join(workDir, 'bootstrap-ca'),
      logFile: logs['bootstrap-ca'],
      runtime,
    });
    cleanups.add(() => bootstrapStepCa.stop());

    const stepCa = await startStepCa({
      name: 'step-ca',
      config,
      port: config.ca.port,
      rootCertFile: pkiFiles.rootCert,
      files: { root: pkiFiles.rootCert, intermediateCert: pkiFiles.intermediateCert, intermediateKey: pkiFiles.intermediateKey },
      // Only bootstrap credentials may sign an X5C token: the X5C roots are the bootstrap root.
      renderCaJson: (port, files) => renderOperationalCaJson({ config: config.ca, port, files, serviceJwk, webhookBaseUrl, x5cRootsPem: pki.bootstrapRoot.certificatePem, deviceIdOid: config.trust.deviceIdOid }),
      dir: path.join(workDir, 'step-ca'),
      logFile: logs['step-ca'],
      runtime,
    });
    cleanups.add(() => stepCa.stop());

    // The broker checks client certificates against the issuing CA's CRL from its first start,
    // plus the final CRLs of retired intermediates (OpenSSL checks only the leaf's issuer).
    const brokerDir = path.join(workDir, 'mosquitto');
    mkdirSync(brokerDir, { recursive: true, mode: 0o700 });
    const caCrlUrl = crlUrl(config.ca, stepCa.port);
    let broker = await brokerCredentials(authority, brokerDir, caCrlUrl);
    const crlFile = path.join(brokerDir, 'crl.pem');
    let mosquitto: StartedMosquitto | undefined;
    const crlPublisher = new CrlPublisher({
      fetch: () => fetchCrlPem(stepCa.url, pki.root.certificatePem),
      extraCrls: () => authority.retiredIntermediateCrls(),
      file: crlFile,
      reload: () => mosquitto!.reload(),
      intervalMs: config.broker.crlRefreshIntervalMs,
      onError: (err) => console.error(`ecm-lab: could not refresh the broker's CRL: ${err.message}`),
    });
    await crlPublisher.prime();
    const probe = { ...broker.probe };
    mosquitto = await startMosquitto({
      config,
      dir: brokerDir,
      logFile: logs.mosquitto,
      files: { caBundle: pkiFiles.caBundle, serverCert: broker.files.cert, serverKey: broker.files.key, crlFile },
      probe,
      runtime,
    });
    cleanups.add(() => mosquitto!.stop());
    crlPublisher.start();
    cleanups.add(async () => crlPublisher.stop());
    const brokerAdmin = () => BrokerAdmin.connect({ host: mosquitto!.host, port: mosquitto!.port, trustedRootPem: pki.root.certificatePem, credentials: broker.admin });
    let admin = await brokerAdmin();
    cleanups.add(() => admin.close());

    const disconnects: StartedLocalLab['disconnects'] = [];
    // Assigned once started; the service's hooks may run before startProvisioningProcess() returns.
    let provisioningService: ProvisioningServiceProcess | undefined;
    const applicationIdentities = new Set<string>();
    const authorityOf = (step: StartedStepCa, hierarchy: { root: CaCertificate; intermediate: CaCertificate }) => ({
      url: step.url,
      rootPem: hierarchy.root.certificatePem,
      intermediatePem: hierarchy.intermediate.certificatePem,
      audienceHost: config.ca.dnsNames[0]!,
      jwkProvisioner: serviceSetup.provisioner,
      logFile: step.logFile,
    });
    // Read at every (re)start: a rotation replaces the operational hierarchy first.
    const serviceOptions = (): ServiceProcessOptions => ({
      host: config.provisioning.host,
      httpsPort: config.provisioning.port,
      httpPort: config.provisioning.insecurePort,
      hooksPort,
      ca: { ...authorityOf(stepCa, pki), x5cProvisioner: config.ca.x5cProvisioner },
      bootstrapCa: { ...authorityOf(bootstrapStepCa, { root: pki.bootstrapRoot, intermediate: pki.bootstrapIntermediate }), acmeProvisioner: config.ca.acmeProvisioner },
      trust: { applicationIdentity: config.broker.applicationIdentity, reservedIdentities: config.trust.reservedIdentities, deviceNetwork: config.trust.deviceNetwork, deviceIdOid: config.trust.deviceIdOid },
      dataDir: serviceSetup.dataDir,
      adminToken: config.provisioning.adminToken || undefined,
      serverKeyGen: config.provisioning.serverKeyGen,
      keyAlgorithm: config.pki.keyAlgorithm,
      expiringWithinSeconds: config.provisioning.expiringWithinSeconds,
      supersededGraceMs: config.provisioning.supersededGraceDays * config.clock.dayMs,
      firmware: firmwarePolicy(config.devices),
      externalCa: externalCa && {
        apiUrl: externalCa.apiUrl,
        crlUrl: externalCa.crlUrl,
        rootPem: externalCa.rootPem,
        checkIntervalMs: config.provisioning.externalCrlCheckIntervalMs,
        client: EXTERNAL_CA_CLIENT,
      },
    });

    // Everything that trusts or uses the intermediate, restarted on the new material (UC-04, UC-05).
    const rotations = new PkiRotations({
      authority,
      externalCa,
      issuedSerials: (issuer) => provisioningService!.issuedSerials(issuer),
      async restartOnNewPki() {
        await stepCa.restart();
        // Its webhook client trusts the operational root through SSL_CERT_FILE, read at start.
        await bootstrapStepCa.restart();
        await admin.close();
        broker = await brokerCredentials(authority, brokerDir, caCrlUrl);
        Object.assign(probe, broker.probe);
        await crlPublisher.prime();
        await mosquitto!.restart();
        admin = await brokerAdmin();
        await provisioningService!.restart();
      },
    });

    provisioningService = await startProvisioningProcess(preparedService, serviceSetup, serviceOptions, {
      extraCrls: () => authority.chainCrls(),
      // A revoked operational certificate: the broker gets the CRL for new handshakes, and every
      // connection of that identity is closed now (only the revoked identity's, nobody else's).
      // A superseded one only goes onto the CRL: the plugin disconnects by name, and the name's
      // session runs on the successor.
      async revoked(event: RevocationEvent) {
        if (event.kind === 'bootstrap' || !event.crlPem) return;
        const started = performance.now();
        await crlPublisher.publish(event.crlPem);
        if (event.reason === 'superseded') return;
        await admin.disconnect(event.identity);
        disconnects.push({ identity: event.identity, serial: event.serial, ms: performance.now() - started });
      },
      async applicationEnrolled({ identity }: { identity: string }) {
        applicationIdentities.add(identity);
        await mosquitto!.setApplicationIdentities([...applicationIdentities]);
      },
      // The plugin keeps its clients in its own file, so a legacy credential survives broker restarts.
      async legacyCredential(change: LegacyCredentialChange) {
        if (change.action === 'create') await admin.addLegacyClient(change.identity, change.password, legacyTopicRoot(config.broker.topicRoot));
        else await admin.removeLegacyClient(change.identity);
      },
      // Its HTTPS certificate, from whichever intermediate issues now (UC-04 replaces it).
      certify: (csrPem: string) => authority.certifyServerCsr(csrPem),
      // UC-04 with an external CA: the service asks for a new key's CSR, then hands back its certificate.
      intermediateCsr: async () => ({ csrPem: await authority.intermediateCsr() }),
      installIntermediate: (order) => rotations.installFromService(order),
    });
    cleanups.add(() => provisioningService!.stop());
    // Registered last, so it runs first: a rotation under way ends before anything stops.
    cleanups.add(() => rotations.settled());

    return {
      id,
      backend: runtime.backend,
      config,
      workDir,
      pki,
      stepCa,
      bootstrapStepCa,
      mosquitto,
      provisioningService,
      crlFile,
      crlPublisher,
      disconnects,
      externalCa,
      rotations: rotations.records,
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
        acmeHttpPort,
        jwkProvisioner: serviceSetup.provisioner,
      },
      broker: { host: mosquitto.host, port: mosquitto.port, url: mosquitto.url, legacyPort: mosquitto.legacyPort, crlFile },
      provisioning: provisioningService,
      externalCaEndpoints: externalCa && { publicUrl: externalCa.publicUrl, crlUrl: externalCa.crlUrl, apiUrl: externalCa.apiUrl, rootPem: externalCa.rootCertFile },
      logs: { ...logs, 'provisioning-audit': provisioningService.auditLogFile },
      processes(): ComponentProcess[] {
        return [
          { name: 'step-ca', pid: stepCa.pid, logFile: stepCa.logFile },
          { name: 'bootstrap-ca', pid: bootstrapStepCa.pid, logFile: bootstrapStepCa.logFile },
          { name: 'mosquitto', pid: mosquitto!.pid, logFile: mosquitto!.logFile },
          { name: 'provisioning-service', pid: provisioningService!.pid, logFile: provisioningService!.logFile },
          ...(externalCa ? [{ name: 'external-ca', pid: externalCa.pid, logFile: externalCa.logFile }] : []),
        ];
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
