// How a component of the lab runs: a child process (local backend) or a container with host
// networking (containers backend). The orchestration (environments/local/local-environment.ts)
// only sees this interface, so both backends start, reload, restart and stop the same
// components with the same configuration files, at the same paths, on the same ports.
import type { Channel } from '../net/rpc.ts';
import { GiveUp, waitFor } from './wait.ts';

/** The external programs a component runs. */
export type ComponentProgram = 'step-ca' | 'mosquitto';

export interface ComponentSpec {
  /** Process and log name: 'step-ca', 'bootstrap-ca', 'mosquitto'. */
  name: string;
  program: ComponentProgram;
  args: string[];
  /** Added to the environment the component gets. */
  env?: Record<string, string>;
  cwd?: string;
  logFile: string;
  /** How long to wait after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
}

/** A Node.js program of the lab's own (the provisioning service), talked to over typed RPC. */
export interface NodeServiceSpec {
  name: string;
  /** The entry script, relative to the repository root. */
  entry: string;
  args: string[];
  logFile: string;
  /**
   * Where a service that cannot share an IPC channel with the lab (a container) listens for the
   * lab's RPC connection: a unix socket in the work directory, which both see at the same path.
   */
  rpcSocket: string;
}

/** A started component: one process, wherever it runs. ManagedProcess is one. */
export interface RunningComponent {
  readonly name: string;
  readonly logFile: string;
  /** Its process id on this host (a container's main process too): CPU is read from /proc/<pid>. */
  readonly pid: number;
  readonly running: boolean;
  /** Why it ended, for error messages; undefined while it runs. */
  readonly exitDescription: string | undefined;
  /** A signal such as SIGHUP (Mosquitto re-reads its CRL and ACL). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after the grace period; resolves once it is gone (and its container removed). Idempotent. */
  stop(): Promise<void>;
  /** Resolves when it exits by itself. */
  waitForExit(): Promise<void>;
}

export interface ComponentRuntime {
  readonly backend: 'local' | 'containers';
  start(spec: ComponentSpec): Promise<RunningComponent>;
  startNodeService(spec: NodeServiceSpec): Promise<{ process: RunningComponent; channel: Channel }>;
  /** Path of Mosquitto's dynamic security plugin where the broker runs (host or image). */
  dynamicSecurityPlugin(): string;
  /** What the runtime itself holds (the container engine's socket); after every component stopped. Idempotent. */
  close(): Promise<void>;
}

export interface Readiness {
  what: string;
  ready: () => Promise<boolean> | boolean;
  timeoutMs: number;
}

/**
 * Starts a component and waits until `ready` says it serves (a readiness strategy, as in
 * testcontainers): if it exits first, or the wait times out, it is stopped and the error names
 * what was awaited, for how long, and its log.
 */
export async function startReady(runtime: ComponentRuntime, spec: ComponentSpec, readiness: Readiness): Promise<RunningComponent> {
  const component = await runtime.start(spec);
  try {
    await waitFor(
      `${readiness.what} (log: ${spec.logFile})`,
      () => {
        // The exit code alone hides causes such as an unreadable key: the log names them.
        if (!component.running) throw new GiveUp(`${spec.name} ${component.exitDescription}; see ${spec.logFile}`);
        return readiness.ready();
      },
      { timeoutMs: readiness.timeoutMs },
    );
  } catch (err) {
    await component.stop();
    throw err;
  }
  return component;
}
