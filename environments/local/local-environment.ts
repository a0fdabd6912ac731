// The local backend: step-ca and Mosquitto as child processes on free loopback ports, in a
// private work directory, with logs under reports/logs/<lab id>/.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LabConfig } from '../config.ts';
import type { ComponentProcess, StartedLab } from '../contract.ts';
import { crlUrl } from '../pki/ca-json.ts';
import { createIntermediateCa, issueForCsr, issueLeaf, type IssuedCertificate } from '../pki/certificate-authority.ts';
import { createCrl } from '../pki/crl.ts';
import { x509 } from '../pki/x509.ts';
import { createLabPki, writeLabPki, type LabPki } from '../pki/lab-pki.ts';
import { fetchCrlPem } from '../step-ca-api.ts';
import type { ServiceProcessOptions } from '../../services/provisioning/process-protocol.ts';
import { startMosquitto, type StartedMosquitto } from './mosquitto.ts';
import { prepareProvisioningProcess, type StartedProvisioningProcess } from './provisioning-process.ts';
import { stopOnSignal } from './shutdown.ts';
import { startStepCa, type StartedStepCa } from './step-ca.ts';

/** What the local backend offers beyond the contract: the lab's own CA, for tests that forge certificates. */
export interface StartedLocalLab extends StartedLab {
  backend: 'local';
  config: LabConfig;
  pki: LabPki;
  stepCa: StartedStepCa;
  mosquitto: StartedMosquitto;
  /** The provisioning service's process; restart() keeps its ports, token and data (NFR-REL-002). */
  provisioningService: StartedProvisioningProcess & { restart(): Promise<void> };
  /** Where the broker reads the issuing CA's CRL; refreshed after every revocation. */
  crlFile: string;
  /**
   * Replaces the lab's CA material and restarts every component on it (UC-04, UC-05):
   * 'intermediate' — the root revokes the issuing intermediate and signs a new one; the old
   * intermediate's final CRL lists every certificate it issued, so the broker refuses them.
   * 'root' — a new root and intermediate; certificates under the old root are unknown to all.
   * Devices are not touched: finding out is their job.
   */
  rotatePki(kind: 'intermediate' | 'root'): Promise<void>;
  /** CRLs clients use to check whole chains: the root's CRL and retired intermediates' final CRLs. */
  chainCrls(): string[];
}

function newLabId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

async function issueServerCertificate(pki: LabPki): Promise<{ certificateChainPem: string; privateKeyPem: string }> {
  const server: IssuedCertificate = await issueLeaf(pki.intermediate, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    extendedKeyUsages: ['serverAuth'],
    notAfter: new Date(Date.now() + 365 * 24 * 3600 * 1000),
  });
  // Leaf then intermediate, so a client trusting only the root can build the chain.
  return { certificateChainPem: `${server.certificatePem}\n${pki.intermediate.certificatePem}\n`, privateKeyPem: server.privateKeyPem + '\n' };
}

async function writeServerCertificate(pki: LabPki, dir: string): Promise<{ cert: string; key: string }> {
  const server = await issueServerCertificate(pki);
  const cert = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  writeFileSync(cert, server.certificateChainPem);
  writeFileSync(key, server.privateKeyPem, { mode: 0o600 });
  return { cert, key };
}

export interface LocalLabOptions {
  /**
   * Stop the lab on SIGINT/SIGTERM (default). Commands that must do something first on Ctrl-C
   * (write a partial report) turn this off and stop the lab themselves.
   */
  handleSignals?: boolean;
}

export async function startLocalLab(config: LabConfig, options: LocalLabOptions = {}): Promise<StartedLocalLab> {
  const id = newLabId();
  const ownsWorkDir = config.workDir === '';
  const workDir = ownsWorkDir ? mkdtempSync(path.join(os.tmpdir(), 'ecm-lab-')) : path.resolve(config.workDir, id);
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const logsDir = path.resolve(config.logsDir, id);
  mkdirSync(logsDir, { recursive: true });
  const logs = {
    'step-ca': path.join(logsDir, 'step-ca.log'),
    mosquitto: path.join(logsDir, 'mosquitto.log'),
    'provisioning-service': path.join(logsDir, 'provisioning-service.log'),
  };

  const stoppers: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const results = await Promise.allSettled(stoppers.reverse().map((s) => s()));
      unregister();
      if (ownsWorkDir) rmSync(workDir, { recursive: true, force: true });
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failures.length > 0) throw new AggregateError(failures.map((f) => f.reason), 'some lab components failed to stop');
    })();
    return stopping;
  };
  const unregister = options.handleSignals === false ? () => undefined : stopOnSignal(stop);

  try {
    const pki = await createLabPki(config.pki);
    const pkiFiles = writeLabPki(pki, path.join(workDir, 'pki'));
    // The provisioning service makes its own keys first: step-ca's ca.json names its JWK.
    const serviceSetup = {
      dataDir: path.join(workDir, 'provisioning'),
      keyAlgorithm: config.pki.keyAlgorithm,
      provisioner: 'provisioning-service',
      logFile: logs['provisioning-service'],
    };
    let preparedService = await prepareProvisioningProcess(serviceSetup);
    stoppers.push(() => preparedService.stop());
    const serviceKey = { provisioner: serviceSetup.provisioner, publicJwk: preparedService.publicJwk };

    const stepCa = await startStepCa({ config, pki: pkiFiles, serviceKey, dir: path.join(workDir, 'step-ca'), logFile: logs['step-ca'] });
    stoppers.push(() => stepCa.stop());

    const brokerDir = path.join(workDir, 'mosquitto');
    mkdirSync(brokerDir, { recursive: true, mode: 0o700 });
    const server = await writeServerCertificate(pki, brokerDir);
    const probe = await issueLeaf(pki.intermediate, {
      commonName: 'ecm-lab-readiness-probe',
      extendedKeyUsages: ['clientAuth'],
      crlDistributionPoints: [crlUrl(config.ca, stepCa.port)],
    });
    const caCrl = () => fetchCrlPem(stepCa.url, pki.root.certificatePem);
    // The broker checks client certificates against the issuing CA's CRL from its first start,
    // plus the final CRLs of retired intermediates (OpenSSL checks only the leaf's issuer).
    const crlFile = path.join(brokerDir, 'crl.pem');
    const retiredIntermediateCrls: string[] = [];
    let rootCrl: string | undefined;
    const writeBrokerCrl = (current: string) => writeFileSync(crlFile, [current, ...retiredIntermediateCrls].join('\n'));
    writeBrokerCrl(await caCrl());
    const probeCredentials = { cert: probe.certificatePem, key: probe.privateKeyPem };
    const mosquitto = await startMosquitto({
      config,
      dir: brokerDir,
      logFile: logs.mosquitto,
      files: { caBundle: pkiFiles.caBundle, serverCert: server.cert, serverKey: server.key, crlFile },
      probe: probeCredentials,
    });
    stoppers.push(() => mosquitto.stop());

    const serviceOptions: ServiceProcessOptions = {
      host: config.provisioning.host,
      httpsPort: config.provisioning.port,
      httpPort: config.provisioning.insecurePort,
      ca: {
        url: stepCa.url,
        rootPem: pki.root.certificatePem,
        audienceHost: config.ca.dnsNames[0]!,
        jwkProvisioner: serviceKey.provisioner,
        acmeProvisioner: config.ca.acmeProvisioner,
      },
      dataDir: serviceSetup.dataDir,
      adminToken: config.provisioning.adminToken || undefined,
      serverKeyGen: config.provisioning.serverKeyGen,
      expiringWithinSeconds: config.provisioning.expiringWithinSeconds,
    };
    const chainCrls = () => [...(rootCrl ? [rootCrl] : []), ...retiredIntermediateCrls];
    const serviceHooks = {
      extraCrls: chainCrls,
      // Mosquitto re-reads the CRL on SIGHUP for new handshakes.
      onCrlUpdated: async (crlPem: string) => {
        writeBrokerCrl(crlPem);
        mosquitto.reload();
      },
      // Its HTTPS certificate, from whichever intermediate issues now (UC-04 replaces it).
      certify: async (csrPem: string) => {
        const leaf = await issueForCsr(pki.intermediate, csrPem, {
          commonName: 'localhost',
          dnsNames: ['localhost'],
          ipAddresses: ['127.0.0.1'],
          extendedKeyUsages: ['serverAuth'],
          notAfter: new Date(Date.now() + 365 * 24 * 3600 * 1000),
        });
        return `${leaf}\n${pki.intermediate.certificatePem}\n`;
      },
    };
    let service = await preparedService.start(serviceOptions, serviceHooks);
    // A restart is a new process: it makes a new TLS key (its JWK stays in its data directory).
    const startService = async () => {
      preparedService = await prepareProvisioningProcess(serviceSetup);
      return preparedService.start(serviceOptions, serviceHooks);
    };
    // Restarts keep the ports, the token and the data directory of the first start.
    Object.assign(serviceOptions, {
      adminToken: service.adminToken,
      httpsPort: Number(new URL(service.url).port),
      httpPort: Number(new URL(service.insecureUrl).port),
    });
    // Restarts keep the endpoints, the token and the audit log; only the process changes.
    const { url, insecureUrl, acmeDirectoryUrl, adminToken, auditLogFile } = service;
    const provisioningService = {
      url,
      insecureUrl,
      acmeDirectoryUrl,
      adminToken,
      auditLogFile,
      get pid() {
        return service.pid;
      },
      get running() {
        return service.running;
      },
      logFile: service.logFile,
      stop: () => service.stop(),
      issuedSerials: () => service.issuedSerials(),
      async restart() {
        await service.stop();
        service = await startService();
      },
    };

    const rotatePki = async (kind: 'intermediate' | 'root') => {
      const retired = pki.intermediate;
      if (kind === 'root') {
        Object.assign(pki, await createLabPki(config.pki));
        retiredIntermediateCrls.length = 0;
        rootCrl = undefined;
      } else {
        const issued = await provisioningService.issuedSerials();
        retiredIntermediateCrls.push(await createCrl(retired, issued.map((serial) => ({ serial, reason: x509.X509CrlReason.cACompromise }))));
        rootCrl = await createCrl(pki.root, [{ serial: retired.certificate.serialNumber, reason: x509.X509CrlReason.cACompromise }]);
        pki.intermediate = await createIntermediateCa(pki.root, {
          commonName: `${config.pki.organization} Intermediate CA ${Date.now()}`,
          organization: config.pki.organization,
          algorithm: config.pki.keyAlgorithm,
          validityDays: config.pki.intermediateValidityDays,
        });
      }
      writeLabPki(pki, pkiFiles.dir);
      await stepCa.restart();
      await writeServerCertificate(pki, brokerDir);
      const nextProbe = await issueLeaf(pki.intermediate, {
        commonName: 'ecm-lab-readiness-probe',
        extendedKeyUsages: ['clientAuth'],
        crlDistributionPoints: [crlUrl(config.ca, stepCa.port)],
      });
      Object.assign(probeCredentials, { cert: nextProbe.certificatePem, key: nextProbe.privateKeyPem });
      writeBrokerCrl(await caCrl());
      await mosquitto.restart();
      serviceOptions.ca.rootPem = pki.root.certificatePem;
      await provisioningService.restart();
    };

    const lab: StartedLocalLab = {
      id,
      backend: 'local',
      config,
      workDir,
      pki,
      stepCa,
      mosquitto,
      provisioningService,
      crlFile,
      rotatePki,
      chainCrls,
      ca: {
        url: stepCa.url,
        rootPem: pkiFiles.rootCert,
        caBundlePem: pkiFiles.caBundle,
        acmeDirectoryUrl: stepCa.acmeDirectoryUrl,
        acmeHttpPort: stepCa.acmeHttpPort,
        x5c: { provisioner: stepCa.x5cProvisioner, audience: stepCa.x5cSignAudience },
        jwkProvisioner: stepCa.jwkProvisioner,
      },
      broker: { host: mosquitto.host, port: mosquitto.port, url: mosquitto.url },
      provisioning: provisioningService,
      logs: { ...logs, 'provisioning-audit': provisioningService.auditLogFile },
      processes(): ComponentProcess[] {
        return [
          { name: 'step-ca', pid: stepCa.pid, logFile: stepCa.logFile },
          { name: 'mosquitto', pid: mosquitto.pid, logFile: mosquitto.logFile },
          { name: 'provisioning-service', pid: provisioningService.pid, logFile: provisioningService.logFile },
        ];
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
    return lab;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
