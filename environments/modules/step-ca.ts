// step-ca as a module: what it is configured with (its roots, its provisioners, where it listens),
// the ca.json and arguments that follow from that, and what a started one offers. The builder is a
// mixin: StepCaContainer (environments/containers/) applies it to testcontainers' GenericContainer,
// StepCaProcess (environments/local/) to a child process; both start it the same way:
//
//   await using ca = await new StepCaContainer().withProvisioners([{ type: 'ACME', name: 'acme' }]).start();
//   fetch(`${ca.getCaUrl()}/health`)  // TLS under ca.getRootPem()
//
// Without withRoots() it makes a root and an intermediate of its own; without withDirectory() it
// keeps ca.json, the keys and its database in a temporary directory it removes at stop().
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOperationalHierarchy } from '../pki/lab-pki.ts';
import { crlUrl, renderAuthorityJson } from '../pki/ca-json.ts';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import { DEFAULT_STARTUP_TIMEOUT_MS, type ComponentSettings, type Constructor, type Readiness, type StartedComponent } from './module.ts';
import { freePort, startOnFreePorts, type PortSettings } from './ports.ts';

/** The PEM files of the hierarchy step-ca issues under: the root it names, the intermediate it signs with. */
export interface StepCaRoots {
  rootCert: string;
  intermediateCert: string;
  intermediateKey: string;
}

/** What a provisioner list may depend on: the port step-ca got, and the CRL URL its templates name. */
export interface StepCaAddress {
  port: number;
  url: string;
  crlUrl: string;
}

export type StepCaProvisioners = Array<Record<string, unknown>> | ((address: StepCaAddress) => Array<Record<string, unknown>>);

export interface StepCaSettings extends ComponentSettings, PortSettings {
  host: string;
  /** 0: a free port, chosen again if another process takes it before step-ca binds it. */
  port: number;
  /** Names it serves TLS for; its CRL URL and X5C audiences use the first. */
  dnsNames: string[];
  roots?: StepCaRoots;
  /** The algorithm of the hierarchy it makes itself (no withRoots()). */
  keyAlgorithm: KeyAlgorithm;
  provisioners?: StepCaProvisioners;
  /** http-01 validation on this port of each identifier (step-ca --insecure when not 80). */
  acmeHttpPort?: number;
  crlValidity: string;
  /** ca.json, the database; a temporary one (removed at stop) when absent. */
  dir?: string;
  env: Record<string, string>;
}

export function stepCaDefaults(): StepCaSettings {
  return {
    componentName: 'step-ca',
    host: '127.0.0.1',
    port: 0,
    dnsNames: ['localhost', '127.0.0.1'],
    keyAlgorithm: 'ecdsa-p256',
    crlValidity: '24h',
    env: {},
    startupTimeoutMs: DEFAULT_STARTUP_TIMEOUT_MS,
    portSource: freePort,
  };
}

/** step-ca logs this once its listener is bound (server.Serve after net.Listen), before it accepts. */
export const STEP_CA_READY = /Serving HTTPS on \S+ \.\.\./;

export function stepCaReadiness(settings: StepCaSettings): Readiness {
  return { logMessage: STEP_CA_READY, timeoutMs: settings.startupTimeoutMs };
}

/** The builder methods of a step-ca module, on whatever base runs it. */
export function StepCaBuilder<TBase extends Constructor>(Base: TBase) {
  return class StepCaBuilder extends Base {
    readonly stepCa: StepCaSettings = stepCaDefaults();

    /** The provisioners of ca.json, or a function of the port it got (templates name its CRL URL). */
    withProvisioners(provisioners: StepCaProvisioners): this {
      if (Array.isArray(provisioners) && provisioners.length === 0) throw new Error('withProvisioners: step-ca needs at least one provisioner');
      this.stepCa.provisioners = provisioners;
      return this;
    }

    /** The hierarchy it issues under (PEM files; the intermediate's key 0600). */
    withRoots(roots: StepCaRoots): this {
      if (!roots.rootCert || !roots.intermediateCert || !roots.intermediateKey) throw new Error('withRoots: rootCert, intermediateCert and intermediateKey are all required');
      this.stepCa.roots = roots;
      return this;
    }

    /** The address it listens on; port 0 (the default) chooses a free one. */
    withAddress(host: string, port = 0): this {
      if (!host) throw new Error('withAddress: a host is required');
      this.stepCa.host = host;
      this.stepCa.port = port;
      return this;
    }

    withDnsNames(names: string[]): this {
      if (names.length === 0) throw new Error('withDnsNames: at least one name');
      this.stepCa.dnsNames = names;
      return this;
    }

    withAcmeHttpPort(port: number): this {
      this.stepCa.acmeHttpPort = port;
      return this;
    }

    withCrlValidity(goDuration: string): this {
      this.stepCa.crlValidity = goDuration;
      return this;
    }

    withKeyAlgorithm(algorithm: KeyAlgorithm): this {
      this.stepCa.keyAlgorithm = algorithm;
      return this;
    }

    /** Where ca.json and the database live (kept across starts: a restart keeps what it issued). */
    withDirectory(dir: string): this {
      this.stepCa.dir = dir;
      return this;
    }

    withComponentName(name: string): this {
      this.stepCa.componentName = name;
      return this;
    }

    withLogFile(file: string): this {
      this.stepCa.logFile = file;
      return this;
    }

    /** How long it may take to log that it serves. */
    withReadinessTimeout(ms: number): this {
      this.stepCa.startupTimeoutMs = ms;
      return this;
    }

    /** Where the free ports come from (freePort by default); a test hands out a taken one to see the retry. */
    withFreePortSource(source: (host: string) => Promise<number>): this {
      this.stepCa.portSource = source;
      return this;
    }

    /** Extra environment, e.g. SSL_CERT_FILE: the trust store of its webhook client. */
    withCaEnvironment(env: Record<string, string>): this {
      Object.assign(this.stepCa.env, env);
      return this;
    }
  };
}

/** What a started step-ca offers, in either placement. */
export interface StartedStepCa extends StartedComponent {
  getCaUrl(): string;
  getHost(): string;
  getPort(): number;
  /** The root certificate (PEM) its TLS certificate chains to. */
  getRootPem(): string;
  getCrlUrl(): string;
  readonly rootCertFile: string;
  readonly caJsonFile: string;
}

/**
 * The started handle's getters, on a placement's started base (a container, a child process):
 * all read from the endpoint the start recorded, which the placement's class takes.
 */
export function StartedStepCaHandle<TBase extends Constructor<StartedComponent>>(Base: TBase) {
  abstract class StartedStepCaHandle extends Base implements StartedStepCa {
    protected abstract readonly endpoint: StepCaEndpoint;

    getCaUrl(): string {
      return this.endpoint.url;
    }
    getHost(): string {
      return this.endpoint.host;
    }
    getPort(): number {
      return this.endpoint.port;
    }
    getRootPem(): string {
      return this.endpoint.rootPem;
    }
    getCrlUrl(): string {
      return this.endpoint.crlUrl;
    }
    get rootCertFile(): string {
      return this.endpoint.rootCertFile;
    }
    get caJsonFile(): string {
      return this.endpoint.caJsonFile;
    }
  }
  return StartedStepCaHandle;
}

/** The files of one step-ca, ready for a start on a given port. */
export interface PreparedStepCa {
  dir: string;
  caJsonFile: string;
  rootCertFile: string;
  /** Writes ca.json for this port; returns step-ca's arguments. */
  configure(port: number): string[];
  address(port: number): StepCaAddress;
  /** Removes a temporary directory (nothing when the directory was given). */
  cleanup(): void;
}

export async function prepareStepCa(settings: StepCaSettings): Promise<PreparedStepCa> {
  if (!settings.provisioners) throw new Error(`${settings.componentName}: withProvisioners() is required (step-ca refuses a ca.json without provisioners)`);
  const owned = settings.dir === undefined;
  const dir = settings.dir ?? mkdtempSync(path.join(os.tmpdir(), 'ecm-step-ca-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const roots = settings.roots ?? (await ownRoots(dir, settings.keyAlgorithm));
  const caJsonFile = path.join(dir, 'ca.json');
  const address = (port: number): StepCaAddress => ({ port, url: `https://${settings.host}:${port}`, crlUrl: crlUrl(settings, port) });
  const provisioners = settings.provisioners;
  return {
    dir,
    caJsonFile,
    rootCertFile: roots.rootCert,
    address,
    configure(port) {
      const list = typeof provisioners === 'function' ? provisioners(address(port)) : provisioners;
      const files = { root: roots.rootCert, intermediateCert: roots.intermediateCert, intermediateKey: roots.intermediateKey, database: path.join(dir, 'db.bolt') };
      const json = renderAuthorityJson({ host: settings.host, port, dnsNames: settings.dnsNames, files, crlValidity: settings.crlValidity, provisioners: list });
      writeFileSync(caJsonFile, JSON.stringify(json, null, 2), { mode: 0o600 });
      // Ports other than 80 for http-01 are an "insecure" option in step-ca; it lets the lab run
      // without root and pick a free port per run.
      const acme = settings.acmeHttpPort !== undefined && settings.acmeHttpPort !== 80 ? ['--insecure', '--acme-http-port', String(settings.acmeHttpPort)] : [];
      return [...acme, caJsonFile];
    },
    cleanup: () => {
      if (owned) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A root and an intermediate of its own, for a step-ca started without withRoots(). */
async function ownRoots(dir: string, keyAlgorithm: KeyAlgorithm): Promise<StepCaRoots> {
  const { root, intermediate } = await createOperationalHierarchy({ keyAlgorithm, organization: 'ecm-lab StepCaContainer', rootValidityDays: 30, intermediateValidityDays: 30 });
  const roots = { rootCert: path.join(dir, 'root_ca.crt'), intermediateCert: path.join(dir, 'intermediate_ca.crt'), intermediateKey: path.join(dir, 'intermediate_ca.key') };
  writeFileSync(roots.rootCert, root.certificatePem + '\n');
  writeFileSync(roots.intermediateCert, intermediate.certificatePem + '\n');
  writeFileSync(roots.intermediateKey, intermediate.privateKeyPem + '\n', { mode: 0o600 });
  return roots;
}

/** The endpoint facts of a started step-ca, read once at its start (the root file may be replaced later, by a rotation). */
export interface StepCaEndpoint extends StepCaAddress {
  host: string;
  rootPem: string;
  rootCertFile: string;
  caJsonFile: string;
}

/**
 * The start both placements share: the files, then the process or container on a port, on
 * another one when that port was taken meanwhile. `launch` runs step-ca with these arguments and
 * resolves once its readiness line came.
 */
export async function startStepCa<T>(settings: StepCaSettings, launch: (args: string[], endpoint: StepCaEndpoint, prepared: PreparedStepCa) => Promise<T>): Promise<T> {
  const prepared = await prepareStepCa(settings);
  try {
    return await startOnFreePorts({
      what: settings.componentName,
      retry: settings.port === 0,
      choose: async () => settings.port || (await settings.portSource(settings.host)),
      start: (port) => {
        const args = prepared.configure(port);
        const endpoint = { ...prepared.address(port), host: settings.host, rootPem: readFileSync(prepared.rootCertFile, 'utf8'), rootCertFile: prepared.rootCertFile, caJsonFile: prepared.caJsonFile };
        return launch(args, endpoint, prepared);
      },
    });
  } catch (err) {
    prepared.cleanup();
    throw err;
  }
}
