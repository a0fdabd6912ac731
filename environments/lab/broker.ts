// The broker as the lab holds it: the Mosquitto module started on the lab's files, its server
// certificate and the lab's own two clients of it (the reload probe and the administrator of the
// dynamic security plugin) from the current intermediate, the CRL it checks client certificates
// against, kept current (crl-publisher.ts), and a reload that resolves only once the broker runs
// on what it re-read.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LabConfig } from '../../config/config.ts';
import { peerCertificateChain } from '../../net/peer-certificates.ts';
import { fetchCrlPem } from '../../net/step-ca-api.ts';
import { markLog, waitForLogLine } from '../log-watch.ts';
import { BROKER_ADMIN_IDENTITY, renderAcl } from '../modules/mosquitto-config.ts';
import type { StartedMosquitto } from '../modules/mosquitto.ts';
import type { Placement } from '../modules/placement.ts';
import type { LabAuthority } from '../pki/lab-authority.ts';
import { BrokerAdmin } from './broker-admin.ts';
import { ComponentSlot } from './component-slot.ts';
import { CrlPublisher } from './crl-publisher.ts';

/** Its server certificate (files), its readiness probe's and its administrator's credentials, from the current intermediate. */
async function brokerCredentials(authority: LabAuthority, dir: string, caCrlUrl: string, serverNames: ServerNames) {
  const server = await authority.serverCertificate(serverNames);
  const files = { cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') };
  writeFileSync(files.cert, server.certificateChainPem);
  writeFileSync(files.key, server.privateKeyPem, { mode: 0o600 });
  const probe = await authority.clientCertificate('ecm-lab-readiness-probe', caCrlUrl);
  return { files, probe, admin: await authority.clientCertificate(BROKER_ADMIN_IDENTITY, caCrlUrl) };
}

export interface ServerNames {
  dnsNames: string[];
  ipAddresses: string[];
}

export interface LabBrokerOptions {
  placement: Placement;
  config: LabConfig;
  authority: LabAuthority;
  /** Where it listens. */
  host: string;
  /** What its server certificate names (the listen address among them). */
  serverNames: ServerNames;
  dir: string;
  logFile: string;
  /** The issuing CA's CRL URL (its leaves' CDP): the lab's own clients of the broker name it too. */
  caCrlUrl: string;
  /** The operational step-ca, whose CRL the broker gets. */
  stepCaUrl: () => string;
}

export class LabBroker {
  readonly crlFile: string;
  readonly crlPublisher: CrlPublisher;
  #slot!: ComponentSlot<StartedMosquitto>;
  #admin!: BrokerAdmin;
  #credentials!: Awaited<ReturnType<typeof brokerCredentials>>;
  /** One reload at a time (below). */
  #reloading: Promise<void> = Promise.resolve();

  private constructor(private readonly options: LabBrokerOptions) {
    this.crlFile = path.join(options.dir, 'crl.pem');
    this.crlPublisher = new CrlPublisher({
      fetch: () => fetchCrlPem(options.stepCaUrl(), options.authority.pki.root.certificatePem),
      extraCrls: () => options.authority.retiredIntermediateCrls(),
      file: this.crlFile,
      reload: () => this.reload(),
      intervalMs: options.config.broker.crlRefreshIntervalMs,
      onError: (err) => console.error(`ecm-lab: could not refresh the broker's CRL: ${err.message}`),
    });
  }

  /**
   * The broker checks client certificates against the issuing CA's CRL from its first start, plus
   * the final CRLs of retired intermediates (OpenSSL checks only the leaf's issuer).
   */
  static async start(options: LabBrokerOptions): Promise<LabBroker> {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const broker = new LabBroker(options);
    broker.#credentials = await brokerCredentials(options.authority, options.dir, options.caCrlUrl, options.serverNames);
    await broker.crlPublisher.prime();
    broker.#slot = await ComponentSlot.start((previous) => broker.#startModule(previous));
    try {
      broker.crlPublisher.start();
      broker.#admin = await broker.#connectAdmin();
    } catch (err) {
      broker.crlPublisher.stop();
      await broker.#slot.stop();
      throw err;
    }
    return broker;
  }

  #startModule(previous: StartedMosquitto | undefined): Promise<StartedMosquitto> {
    const { options } = this;
    const { config } = options;
    return options.placement
      .mosquitto()
      .withComponentName('mosquitto')
      .withAddress(options.host, previous?.getPort() ?? config.broker.port, previous?.getLegacyPort() ?? config.broker.legacyPort)
      .withBrokerSettings(config.broker)
      .withMutualTls({ caBundle: options.authority.files.caBundle, serverCert: this.#credentials.files.cert, serverKey: this.#credentials.files.key })
      .withCrl(this.crlFile)
      .withDirectory(options.dir)
      .withLogFile(options.logFile)
      .withReadinessTimeout(config.readinessTimeoutMs)
      .start();
  }

  #connectAdmin(): Promise<BrokerAdmin> {
    return BrokerAdmin.connect({ host: this.host, port: this.port, trustedRootPem: this.options.authority.pki.root.certificatePem, credentials: this.#credentials.admin });
  }

  get module(): StartedMosquitto {
    return this.#slot.current;
  }

  get host(): string {
    return this.module.getHost();
  }

  get port(): number {
    return this.module.getPort();
  }

  get legacyPort(): number {
    return this.module.getLegacyPort();
  }

  get url(): string {
    return this.module.getMqttsUrl();
  }

  get configFile(): string {
    return this.module.configFile;
  }

  get logFile(): string {
    return this.#slot.logFile;
  }

  get pid(): number {
    return this.#slot.pid;
  }

  get running(): boolean {
    return this.#slot.running;
  }

  get admin(): BrokerAdmin {
    return this.#admin;
  }

  /**
   * SIGHUP: Mosquitto re-reads its CRL and ACL for new connections; resolves once it has. The
   * reload runs in the broker's main loop right after it logs "Reloading config.", so a handshake
   * answered after that line is answered under the new configuration. One reload at a time:
   * Mosquitto clears its reload flag only after reloading, so a SIGHUP that arrives during a
   * reload is lost, and the change it was sent for never applied.
   */
  reload(): Promise<void> {
    const next = this.#reloading.then(async () => {
      const mark = markLog(this.logFile);
      await this.module.signal('SIGHUP');
      await waitForLogLine(mark, /Reloading config\./, this.options.config.readinessTimeoutMs);
      const { probe } = this.#credentials;
      await peerCertificateChain({ host: this.host, port: this.port, ca: readFileSync(this.options.authority.files.caBundle, 'utf8'), cert: probe.certificateChainPem, key: probe.privateKeyPem });
    });
    this.#reloading = next.catch(() => undefined);
    return next;
  }

  /** Gives these identities (beyond the configured one) the application's topic rights, then reloads. Written whole and renamed. */
  setApplicationIdentities(identities: readonly string[]): Promise<void> {
    const { aclFile } = this.module;
    writeFileSync(`${aclFile}.tmp`, renderAcl(this.options.config.broker, identities), { mode: 0o600 });
    renameSync(`${aclFile}.tmp`, aclFile);
    return this.reload();
  }

  /** A new process or container on the same ports, directory, sessions (persistence) and plugin clients. */
  restart(): Promise<void> {
    return this.#slot.restart();
  }

  /** After a PKI rotation: a server certificate and clients from the new intermediate, the new CRL, then a restart. */
  async restartOnNewPki(): Promise<void> {
    await this.#admin.close();
    this.#credentials = await brokerCredentials(this.options.authority, this.options.dir, this.options.caCrlUrl, this.options.serverNames);
    await this.crlPublisher.prime();
    await this.#slot.restart();
    this.#admin = await this.#connectAdmin();
  }

  /** Idempotent. */
  async stop(): Promise<void> {
    this.crlPublisher.stop();
    await this.#admin?.close().catch(() => undefined);
    await this.#slot.stop();
  }
}
