// What recipes work with during one replay: requests over real HTTP(S) from the replay's own
// loopback addresses, the admin API to arrange the service's state, credentials obtained through
// the service itself, and the clean-up that puts the target back as the replay found it.
import { randomBytes, randomInt } from 'node:crypto';
import { request, type HttpResponse } from '../../net/https-client.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { inspectCertificate } from '../../x509/certificates.ts';
import { obtainOperationalCertificate } from '../../simulators/client/x5c-sign.ts';
import type { ContractTarget } from './target.ts';
import { AddressPlan, AddressPlanError } from '../../simulators/client/addresses.ts';
import type { Answer } from './validate.ts';
import type { Listener } from './document.ts';

export interface SendOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** A JSON body (sets the content type). */
  json?: unknown;
  /** The source address; the replay's unlisted one by default. */
  from?: string;
  /** true: the target's admin token; a string: that token. */
  admin?: boolean | string;
  servername?: string;
  cert?: string;
  key?: string;
}

export interface Credential {
  identity: string;
  address: string;
  privateKeyPem: string;
  certificateChainPem: string;
  serial: string;
}

export const toAnswer = (res: HttpResponse): Answer & { res: HttpResponse } => ({ status: res.status, contentType: res.headers['content-type'], body: res.body, res });

/** step-ca and the service both write serials as lowercase hex without leading zeros. */
const serialOf = (chainPem: string) => inspectCertificate(chainPem).serialNumber.toLowerCase().replace(/^0+/, '');

/**
 * The replay's source addresses: white-listed ones (a range of their own) and unlisted ones. By
 * default one /24 of loopback per replay, .1-.127 listed; with the target's clients.addresses
 * (a remote installation), the lower half of that block listed and the upper half not.
 */
export class ReplayAddresses {
  readonly #block = `127.${randomInt(200, 250)}.${randomInt(0, 256)}`;
  readonly #plan: AddressPlan | undefined;
  #nextListed = 0;
  // The first unlisted one is for requests whose source does not matter.
  #nextUnlisted = 1;

  constructor(clientAddresses?: string) {
    if (clientAddresses === undefined) return;
    this.#plan = AddressPlan.fromCidr(clientAddresses, { workers: 2, applications: 0 });
    if (this.#plan.shared || this.#plan.capacity(0) < 1 || this.#plan.capacity(1) < 2) {
      throw new AddressPlanError(`clients.addresses: the contract replay needs white-listed and unlisted addresses apart, a half of ${clientAddresses} each: give a block of at least 8 addresses`);
    }
  }

  get listedRange(): string {
    return this.#plan ? this.#plan.workerRange(0) : `${this.#block}.0/25`;
  }

  /** A fresh white-listed source address (fresh, so no enrolment of an earlier recipe is bound to it). */
  listed(): string {
    const n = this.#nextListed++;
    if (this.#plan) return this.#exhausted(() => this.#plan!.address(n, 0));
    if (n >= 127) throw new Error('the replay ran out of white-listed addresses');
    return `${this.#block}.${n + 1}`;
  }

  unlisted(): string {
    return this.#unlistedAt(this.#nextUnlisted++);
  }

  /** One address for requests whose source does not matter: never white-listed. */
  get anySource(): string {
    return this.#unlistedAt(0);
  }

  #unlistedAt(n: number): string {
    if (this.#plan) return this.#exhausted(() => this.#plan!.address(n, 1));
    if (n >= 127) throw new Error('the replay ran out of unlisted addresses');
    return n === 0 ? `${this.#block}.254` : `${this.#block}.${127 + n}`;
  }

  #exhausted(address: () => string): string {
    try {
      return address();
    } catch (err) {
      throw new Error(`the replay ran out of addresses in clients.addresses: ${(err as Error).message}`);
    }
  }
}

export class ReplaySession {
  readonly run = randomBytes(3).toString('hex').toUpperCase();
  readonly #addresses: ReplayAddresses;
  #identities = 0;
  readonly #created = { enrolments: new Set<string>(), legacy: new Set<string>() };
  #operational?: Promise<Credential & { operational: { privateKeyPem: string; certificateChainPem: string } }>;

  constructor(readonly target: ContractTarget) {
    this.#addresses = new ReplayAddresses(target.clientAddresses);
  }

  get listedRange(): string {
    return this.#addresses.listedRange;
  }

  /** A fresh white-listed source address (fresh, so no enrolment of an earlier recipe is bound to it). */
  listedAddress(): string {
    return this.#addresses.listed();
  }

  unlistedAddress(): string {
    return this.#addresses.unlisted();
  }

  /** An identity no earlier run used: CT-<run>-<label><n>. */
  identity(label: string): string {
    return `CT-${this.run}-${label}${++this.#identities}`;
  }

  baseUrl(listener: Listener): string {
    if (listener === 'https') return this.target.url;
    if (listener === 'http') return this.target.insecureUrl;
    if (!this.target.hooksUrl) throw new Error('the target names no webhook listener');
    return this.target.hooksUrl;
  }

  async send(listener: Listener, method: string, path: string, options: SendOptions = {}): Promise<Answer & { res: HttpResponse }> {
    const headers: Record<string, string> = { ...options.headers };
    let body = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    if (options.admin) headers.authorization = `Bearer ${options.admin === true ? this.target.adminToken : options.admin}`;
    const res = await request(`${this.baseUrl(listener)}${path}`, {
      method,
      headers,
      body,
      ca: listener === 'http' ? undefined : this.target.rootPem,
      localAddress: options.from ?? this.#addresses.anySource,
      servername: options.servername,
      cert: options.cert,
      key: options.key,
      timeoutMs: 20_000,
    });
    return toAnswer(res);
  }

  /** An admin call that must succeed: arranging state is not what the recipe checks. */
  async admin<T = unknown>(method: string, path: string, json?: unknown): Promise<T> {
    const answer = await this.send('https', method, path, { admin: true, json });
    if (answer.status >= 300) throw new Error(`arranging the target failed: ${method} ${path} answered ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`);
    return (answer.body.length > 0 ? JSON.parse(answer.body.toString('utf8')) : undefined) as T;
  }

  /** Service ON, the replay's listed range (and any named entries) on the white list. */
  async turnOn(extraEntries: string[] = []): Promise<void> {
    await this.admin('PUT', '/api/v1/admin/state', { enabled: true });
    await this.admin('PUT', '/api/v1/admin/whitelist', { entries: [this.listedRange, ...extraEntries] });
  }

  async turnOff(): Promise<void> {
    await this.admin('PUT', '/api/v1/admin/state', { enabled: false });
  }

  /** A bootstrap credential through the bootstrap endpoint; its CN enrols `identity`. */
  async bootstrapCredential(identity = this.identity('boot')): Promise<Credential> {
    await this.turnOn();
    const address = this.listedAddress();
    const { privateKeyPem, csrPem } = await createKeyAndCsr({ commonName: identity }, 'ecdsa-p256');
    const answer = await this.send('http', 'POST', '/api/v1/bootstrap', { from: address, body: csrPem, headers: { 'content-type': 'application/pkcs10' } });
    if (answer.status !== 200) throw new Error(`could not obtain a bootstrap credential: ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`);
    this.#created.enrolments.add(identity);
    const certificateChainPem = answer.body.toString('utf8');
    return { identity, address, privateKeyPem, certificateChainPem, serial: serialOf(certificateChainPem) };
  }

  /** An operational certificate by X5C through the service's CA URL (once per replay). */
  operationalCertificate() {
    this.#operational ??= (async () => {
      const bootstrap = await this.bootstrapCredential(this.identity('op'));
      const operational = await obtainOperationalCertificate({
        caUrl: this.target.url,
        trustedCaPem: this.target.rootPem,
        provisioner: this.target.x5c.provisioner,
        audience: this.target.x5c.audience,
        bootstrap,
        commonName: bootstrap.identity,
        sans: [`urn:ecm-lab:device:${bootstrap.identity}`],
        keyAlgorithm: 'ecdsa-p256',
        localAddress: bootstrap.address,
      });
      return { ...bootstrap, operational };
    })();
    return this.#operational;
  }

  createdLegacyCredential(identity: string): void {
    this.#created.legacy.add(identity);
  }

  createdEnrolment(identity: string): void {
    this.#created.enrolments.add(identity);
  }

  forgetLegacyCredential(identity: string): void {
    this.#created.legacy.delete(identity);
  }

  /** What the service looked like before the replay: restored at the end. */
  async snapshot(): Promise<() => Promise<string[]>> {
    const state = await this.admin<{ enabled: boolean; remainingSeconds: number | null; whitelist: string[] }>('GET', '/api/v1/admin/state');
    return async () => {
      const problems: string[] = [];
      const attempt = async (what: string, call: () => Promise<unknown>) => {
        try {
          await call();
        } catch (err) {
          problems.push(`${what}: ${(err as Error).message}`);
        }
      };
      for (const identity of this.#created.legacy) await attempt(`delete legacy credential ${identity}`, () => this.admin('DELETE', `/api/v1/admin/legacy-credentials/${encodeURIComponent(identity)}`));
      const enrolled = new Set((await this.admin<{ enrolments: { identity: string }[] }>('GET', '/api/v1/admin/enrolments')).enrolments.map((e) => e.identity));
      for (const identity of this.#created.enrolments) {
        if (enrolled.has(identity)) await attempt(`release ${identity}`, () => this.admin('DELETE', `/api/v1/admin/enrolments/${encodeURIComponent(identity)}`));
      }
      if (state.enabled) {
        await attempt('turn the service back ON', () => this.admin('PUT', '/api/v1/admin/state', { enabled: true, ...(state.remainingSeconds ? { autoOffSeconds: state.remainingSeconds } : {}) }));
        await attempt('restore the white list', () => this.admin('PUT', '/api/v1/admin/whitelist', { entries: state.whitelist }));
      } else {
        await attempt('turn the service back OFF', () => this.turnOff());
      }
      return problems;
    };
  }
}
