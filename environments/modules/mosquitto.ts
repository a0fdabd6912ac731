// Mosquitto as a module: a mutual-TLS listener (and the legacy password listener of old firmware)
// with the lab's configuration (mosquitto-config.ts), on either placement:
//
//   await using broker = await new MosquittoContainer(image).withMutualTls({ caBundle, serverCert, serverKey }).withCrl(crlFile).start();
//   broker.getMqttsUrl();
//
// Its configuration, ACL and the dynamic security plugin's file live in its directory; a start on
// an existing directory keeps the ACL and the plugin's clients (legacy credentials survive a
// restart), and rewrites mosquitto.conf for the ports it starts on.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, type LabConfig } from '../../config/config.ts';
import { DEFAULT_STARTUP_TIMEOUT_MS, type ComponentSettings, type Constructor, type Readiness, type StartedComponent } from './module.ts';
import { renderAcl, renderDynamicSecurityConfig, renderMosquittoConf } from './mosquitto-config.ts';
import { freePort, startOnFreePorts, type PortSettings } from './ports.ts';

/** The broker's TLS material: the CA bundle it verifies clients against, its server certificate and key (0600). */
export interface MosquittoTls {
  caBundle: string;
  serverCert: string;
  serverKey: string;
}

export interface MosquittoSettings extends ComponentSettings, PortSettings {
  host: string;
  /** 0: a free port, chosen again if another process takes it before Mosquitto binds it. */
  port: number;
  legacyPort: number;
  tls?: MosquittoTls;
  /** The CRL it checks client certificates against (re-read on SIGHUP). */
  crlFile?: string;
  broker: LabConfig['broker'];
  /** The dynamic security plugin where it runs (host or image). */
  dynamicSecurityPlugin?: string;
  /** Mosquitto started as root drops to this user: it must be able to read the 0600 server key. */
  runAsUser: string;
  dir?: string;
}

export function mosquittoDefaults(): MosquittoSettings {
  return {
    componentName: 'mosquitto',
    host: '127.0.0.1',
    port: 0,
    legacyPort: 0,
    broker: parseConfig({}).broker,
    runAsUser: os.userInfo().username,
    startupTimeoutMs: DEFAULT_STARTUP_TIMEOUT_MS,
    portSource: freePort,
  };
}

/** Logged once every listener is open, before the main loop. */
export const MOSQUITTO_READY = /mosquitto version \S+ running/;

export function mosquittoReadiness(settings: MosquittoSettings): Readiness {
  return { logMessage: MOSQUITTO_READY, timeoutMs: settings.startupTimeoutMs };
}

export function MosquittoBuilder<TBase extends Constructor>(Base: TBase) {
  return class MosquittoBuilder extends Base {
    readonly mosquitto: MosquittoSettings = mosquittoDefaults();

    /** The listeners' TLS: client certificates under `caBundle` required on the main listener. */
    withMutualTls(tls: MosquittoTls): this {
      if (!tls.caBundle || !tls.serverCert || !tls.serverKey) throw new Error('withMutualTls: caBundle, serverCert and serverKey are all required');
      this.mosquitto.tls = tls;
      return this;
    }

    withCrl(crlFile: string): this {
      if (!crlFile) throw new Error('withCrl: a CRL file is required');
      this.mosquitto.crlFile = crlFile;
      return this;
    }

    /** Where it listens; port 0 (the default) chooses free ones. */
    withAddress(host: string, port = 0, legacyPort = 0): this {
      if (!host) throw new Error('withAddress: a host is required');
      Object.assign(this.mosquitto, { host, port, legacyPort });
      return this;
    }

    /** Topics, limits, persistence, the application's identity (the lab's config `broker`). */
    withBrokerSettings(broker: LabConfig['broker']): this {
      this.mosquitto.broker = broker;
      return this;
    }

    withDynamicSecurityPlugin(plugin: string): this {
      this.mosquitto.dynamicSecurityPlugin = plugin;
      return this;
    }

    withDirectory(dir: string): this {
      this.mosquitto.dir = dir;
      return this;
    }

    withComponentName(name: string): this {
      this.mosquitto.componentName = name;
      return this;
    }

    withLogFile(file: string): this {
      this.mosquitto.logFile = file;
      return this;
    }

    withReadinessTimeout(ms: number): this {
      this.mosquitto.startupTimeoutMs = ms;
      return this;
    }

    /** Where the free ports come from (freePort by default); a test hands out a taken one to see the retry. */
    withFreePortSource(source: (host: string) => Promise<number>): this {
      this.mosquitto.portSource = source;
      return this;
    }
  };
}

export interface MosquittoEndpoint {
  host: string;
  port: number;
  legacyPort: number;
  configFile: string;
  aclFile: string;
}

export interface StartedMosquitto extends StartedComponent {
  getMqttsUrl(): string;
  getHost(): string;
  getPort(): number;
  getLegacyPort(): number;
  readonly configFile: string;
  /** Topic rights per identity; re-read on SIGHUP. */
  readonly aclFile: string;
}

/** The started handle's getters on a placement's started base, read from the endpoint of its start. */
export function StartedMosquittoHandle<TBase extends Constructor<StartedComponent>>(Base: TBase) {
  abstract class StartedMosquittoHandle extends Base implements StartedMosquitto {
    protected abstract readonly endpoint: MosquittoEndpoint;

    getMqttsUrl(): string {
      return `mqtts://${this.endpoint.host}:${this.endpoint.port}`;
    }
    getHost(): string {
      return this.endpoint.host;
    }
    getPort(): number {
      return this.endpoint.port;
    }
    getLegacyPort(): number {
      return this.endpoint.legacyPort;
    }
    get configFile(): string {
      return this.endpoint.configFile;
    }
    get aclFile(): string {
      return this.endpoint.aclFile;
    }
  }
  return StartedMosquittoHandle;
}

interface PreparedMosquitto {
  dir: string;
  configure(ports: { port: number; legacyPort: number }): { args: string[]; endpoint: MosquittoEndpoint };
  cleanup(): void;
}

function prepareMosquitto(settings: MosquittoSettings): PreparedMosquitto {
  const { tls } = settings;
  if (!tls) throw new Error(`${settings.componentName}: withMutualTls() is required: its listeners are TLS only`);
  const owned = settings.dir === undefined;
  const dir = settings.dir ?? mkdtempSync(path.join(os.tmpdir(), 'ecm-mosquitto-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const aclFile = path.join(dir, 'acl');
  const configFile = path.join(dir, 'mosquitto.conf');
  if (!existsSync(aclFile)) writeFileSync(aclFile, renderAcl(settings.broker), { mode: 0o600 });
  const dynamicSecurity = settings.dynamicSecurityPlugin ? { plugin: settings.dynamicSecurityPlugin, configFile: path.join(dir, 'dynamic-security.json') } : undefined;
  if (dynamicSecurity && !existsSync(dynamicSecurity.configFile)) writeFileSync(dynamicSecurity.configFile, renderDynamicSecurityConfig(), { mode: 0o600 });
  return {
    dir,
    configure({ port, legacyPort }) {
      const conf = renderMosquittoConf({
        broker: settings.broker,
        host: settings.host,
        port,
        legacyPort,
        files: { ...tls, crlFile: settings.crlFile, aclFile, dynamicSecurity },
        runAsUser: settings.runAsUser,
        persistenceDir: dir,
      });
      writeFileSync(`${configFile}.tmp`, conf, { mode: 0o600 });
      renameSync(`${configFile}.tmp`, configFile);
      return { args: ['-c', configFile], endpoint: { host: settings.host, port, legacyPort, configFile, aclFile } };
    },
    cleanup: () => {
      if (owned) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The start both placements share: the files, then the broker on ports, on others when one was taken meanwhile. */
export async function startMosquitto<T>(settings: MosquittoSettings, launch: (args: string[], endpoint: MosquittoEndpoint, dir: string, cleanup: () => void) => Promise<T>): Promise<T> {
  const prepared = prepareMosquitto(settings);
  try {
    return await startOnFreePorts({
      what: settings.componentName,
      retry: settings.port === 0 || settings.legacyPort === 0,
      choose: async () => ({ port: settings.port || (await settings.portSource(settings.host)), legacyPort: settings.legacyPort || (await settings.portSource(settings.host)) }),
      start: (ports) => {
        const { args, endpoint } = prepared.configure(ports);
        return launch(args, endpoint, prepared.dir, () => prepared.cleanup());
      },
    });
  } catch (err) {
    prepared.cleanup();
    throw err;
  }
}
