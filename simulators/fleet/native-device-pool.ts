// The fleet's firmware 2.1 devices in one native process (ecm-device, load/native-connect/cmd/
// ecm-device): the same pool contract and events as the Node pools, so the report and its
// thresholds are the same; the lab's http-01 responder serves the devices' tokens, and the
// process's CPU is read from /proc as the out-of-process thread "native-devices". Whatever it
// does not serve (certified and legacy firmware, restarts, revocation) is refused by name.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { locateTool, MissingToolError, nativeConnectSourceHash } from '../../environments/tools/tools.ts';
import { processCpu } from '../../environments/local/process-cpu.ts';
import type { ChallengePublisher } from '../acme/http01-responder.ts';
import { AddressPlan } from '../client/addresses.ts';
import type { DeviceIdentity } from '../device/device-identity.ts';
import type { BackoffPolicy } from '../client/power-up.ts';
import type { DevicePool, DevicePoolEvent, DevicePoolSpec, PoolTally, RetiredDevice } from './device-pool-contract.ts';
import { causeOf, FLEET_BACKOFF } from './device-pool.ts';
import type { ThreadStats } from './thread-stats.ts';

/** The out-of-process thread's label in the CPU meter and the report. */
const NATIVE_DEVICES_LABEL = 'native-devices';

type NativeEvent =
  | { type: 'ready' }
  | { type: 'challenge'; token: string; keyAuthorization: string }
  | { type: 'unchallenge'; token: string }
  | { type: 'provisioned'; deviceId: string; timings: Record<string, number>; totalMs: number; retried: boolean; at: number }
  | { type: 'failed'; deviceId: string; name: string; cause: string }
  | { type: 'telemetry-error'; deviceId: string; cause: string }
  | { type: 'sent'; sent: number }
  | { type: 'connectedIds'; id: number; ids: string[] }
  | { type: 'stopped'; sent: number; devices: PoolTally['devices']; errors: string[] };

export class NativeDevicePoolError extends Error {
  override name = 'NativeDevicePoolError';
}

/** The ecm-device binary, refused when built from other sources than these. */
export function nativeDeviceBinary(binDir?: string): string {
  const binary = locateTool('ecm-device', binDir);
  const built = /^ecm-device (\S+)/.exec(execFileSync(binary, ['-version'], { encoding: 'utf8', timeout: 10_000 }))?.[1];
  const sources = nativeConnectSourceHash();
  if (built !== sources) throw new MissingToolError(`${binary} was built from other sources (${built ?? 'no version'}; load/native-connect is ${sources}); rebuild it with: bash scripts/build-native-connect.sh`);
  return binary;
}

const unsupported = (what: string) => Promise.reject(new NativeDevicePoolError(`the native device client does not ${what} (use --device-client node)`));

export class NativeDevicePool implements DevicePool {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #spec: DevicePoolSpec;
  readonly #emit: (event: DevicePoolEvent) => void;
  readonly #addresses: AddressPlan;
  readonly #launches = new Map<string, { resolve(): void; reject(error: Error): void }>();
  readonly #queries = new Map<number, (ids: string[]) => void>();
  readonly #exited: Promise<void>;
  #ready: Promise<void>;
  #stopped: ((answer: Extract<NativeEvent, { type: 'stopped' }>) => void) | undefined;
  #stopping: Promise<PoolTally> | undefined;
  #sent = 0;
  #nextQuery = 1;
  #stderr = '';
  #gone: string | undefined;
  #lastCpuMs = 0;

  constructor(spec: DevicePoolSpec, responder: ChallengePublisher, emit: (event: DevicePoolEvent) => void, options: { binDir?: string; backoff?: Partial<BackoffPolicy> } = {}) {
    if (spec.directIssuer || spec.preMadeKeys || spec.certLifetimeSeconds) throw new NativeDevicePoolError('the native device client runs the full flow only: no issued certificates, pre-made keys or renewals');
    this.#spec = spec;
    this.#emit = emit;
    this.#addresses = AddressPlan.fromCidr(spec.clientAddresses);
    this.#child = spawn(nativeDeviceBinary(options.binDir), [], { stdio: ['pipe', 'pipe', 'pipe'] });
    // A process that died is reported by its exit code and stderr, not by the pipe's EPIPE.
    this.#child.stdin.on('error', () => undefined);
    this.#child.stderr.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-4000)));
    this.#exited = new Promise((resolve) =>
      this.#child.once('close', (code, signal) => {
        this.#gone = `ecm-device exited (${signal ?? `code ${code}`})${this.#stderr ? `: ${this.#stderr.trim()}` : ''}`;
        for (const [, launch] of this.#launches) launch.reject(new NativeDevicePoolError(this.#gone));
        this.#launches.clear();
        resolve();
      }),
    );
    let ready!: () => void;
    this.#ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      void this.#exited.then(() => reject(new NativeDevicePoolError(this.#gone!)));
    });
    this.#ready.catch(() => undefined);
    const lines = createInterface({ input: this.#child.stdout });
    lines.on('line', (line) => this.#on(JSON.parse(line) as NativeEvent, responder, ready));
    const { endpoints } = spec;
    this.#send({
      op: 'init',
      config: {
        acmeDirectoryUrl: endpoints.acmeDirectoryUrl,
        signUrl: endpoints.signUrl,
        trustedRootPem: endpoints.trustedRootPem,
        x5c: endpoints.x5c,
        broker: endpoints.broker,
        storeRoot: spec.storeRoot,
        topicRoot: spec.topicRoot,
        qos: spec.qos,
        telemetryIntervalMs: spec.telemetryIntervalMs,
        operate: spec.operate,
        backoff: { factor: 2, ...FLEET_BACKOFF, ...options.backoff },
      },
    });
  }

  #send(command: Record<string, unknown>): void {
    if (!this.#gone) this.#child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  #on(event: NativeEvent, responder: ChallengePublisher, ready: () => void): void {
    switch (event.type) {
      case 'ready':
        return ready();
      case 'challenge':
        void Promise.resolve(responder.publish(event.token, event.keyAuthorization)).then(() => this.#send({ op: 'published', token: event.token }));
        return;
      case 'unchallenge':
        return responder.remove(event.token);
      case 'sent':
        this.#sent = event.sent;
        return;
      case 'provisioned': {
        const { type, ...rest } = event;
        this.#emit({ type, ...rest });
        this.#launches.get(event.deviceId)?.resolve();
        this.#launches.delete(event.deviceId);
        return;
      }
      case 'failed': {
        const error = Object.assign(new Error(event.cause), { name: event.name });
        this.#emit({ type: 'failed', deviceId: event.deviceId, cause: causeOf(error) });
        this.#launches.get(event.deviceId)?.reject(error);
        this.#launches.delete(event.deviceId);
        return;
      }
      case 'telemetry-error':
        return;
      case 'connectedIds':
        this.#queries.get(event.id)?.(event.ids);
        this.#queries.delete(event.id);
        return;
      case 'stopped':
        this.#sent = event.sent;
        this.#stopped?.(event);
    }
  }

  async prepare(): Promise<void> {
    // Nothing to make beforehand: the native devices make their keys in their flow.
  }

  async launch(identity: DeviceIdentity, globalIndex: number): Promise<void> {
    await this.#ready;
    const address = this.#addresses.address(globalIndex - (this.#spec.clientAddressOffset ?? 0));
    const done = new Promise<void>((resolve, reject) => this.#launches.set(identity.deviceId, { resolve, reject }));
    this.#send({ op: 'launch', deviceId: identity.deviceId, firmwareVersion: identity.firmwareVersion, address });
    return done;
  }

  requestCertificate(): Promise<string> {
    return unsupported('serve firmware the service team certifies');
  }

  launchCertified(): Promise<void> {
    return unsupported('serve firmware the service team certifies');
  }

  launchLegacy(): Promise<void> {
    return unsupported('serve legacy firmware');
  }

  sent(): number {
    return this.#sent;
  }

  async connectedIds(): Promise<string[]> {
    if (this.#gone) return [];
    const id = this.#nextQuery++;
    const answer = new Promise<string[]>((resolve) => this.#queries.set(id, resolve));
    this.#send({ op: 'connectedIds', id });
    return Promise.race([answer, this.#exited.then(() => [])]);
  }

  restartSome(): Promise<string[]> {
    return unsupported('restart devices (faults)');
  }

  operationalSerials(): Promise<Record<string, string>> {
    return unsupported('report serial numbers (faults)');
  }

  disconnectedAfter(): Promise<number> {
    return unsupported('time broker closes (faults)');
  }

  retire(): Promise<Record<string, RetiredDevice>> {
    return unsupported('retire revoked devices (faults)');
  }

  /** The process's CPU so far (all its threads), from /proc; its last reading once it is gone. */
  async threadStats(): Promise<Record<string, ThreadStats>> {
    const cpu = this.#child.pid === undefined ? undefined : processCpu(this.#child.pid);
    if (cpu && !this.#gone) this.#lastCpuMs = cpu.cpuMs;
    return { [NATIVE_DEVICES_LABEL]: { cpuMs: this.#lastCpuMs, loopDelayMs: { p50: 0, p99: 0, max: 0, mean: 0 }, outOfProcess: true } };
  }

  /** Stops telemetry, tallies and disconnects in the process, reads its CPU, then ends it; idempotent. */
  stop(): Promise<PoolTally> {
    this.#stopping ??= (async () => {
      let tally: PoolTally = { devices: {}, errors: [] };
      if (!this.#gone) {
        const answer = new Promise<Extract<NativeEvent, { type: 'stopped' }>>((resolve) => (this.#stopped = resolve));
        this.#send({ op: 'stop' });
        const killer = setTimeout(() => this.#child.kill('SIGKILL'), 60_000);
        const stopped = await Promise.race([answer, this.#exited.then(() => undefined)]);
        clearTimeout(killer);
        if (stopped) tally = { devices: stopped.devices, errors: stopped.errors };
        else tally.errors.push(`stop: ${this.#gone}`);
        await this.threadStats();
      }
      this.kill();
      await this.#exited;
      return tally;
    })();
    return this.#stopping;
  }

  /** Ends the process now (it also ends by itself when its stdin closes, i.e. with this one). */
  kill(): void {
    if (this.#gone) return;
    this.#child.stdin.end();
    const hard = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
    void this.#exited.then(() => clearTimeout(hard));
  }

  /** The process id, for tests that check nothing is left. */
  get pid(): number | undefined {
    return this.#child.pid;
  }
}
