// What every component of the lab is, wherever it runs (testcontainers' lifecycle contract): a
// builder configured with withX() calls, start() that returns once the component serves (a
// readiness strategy: the log line a component writes when it listens), and a started handle
// with its endpoints and an idempotent stop(). The builders of step-ca, Mosquitto and the
// provisioning service's process are mixins (step-ca.ts, mosquitto.ts, service-host.ts), applied to
// GenericContainer in environments/containers/ and to ProcessModule in environments/local/, so
// both placements take the same settings and hand back the same handles.

/** A class a builder mixin can extend (GenericContainer, ProcessModule). */
export type Constructor<T = object> = new (...args: any[]) => T;

/** A started component: one process, wherever it runs. */
export interface StartedComponent {
  /** Process and log name: 'step-ca', 'bootstrap-ca', 'mosquitto', 'provisioning-service'. */
  readonly componentName: string;
  readonly logFile: string;
  /** Its process id on this host (a container's main process too): CPU is read from /proc/<pid>. */
  readonly pid: number;
  readonly running: boolean;
  /** Why it ended, for error messages; undefined while it runs. */
  readonly exitDescription: string | undefined;
  /** A signal such as SIGHUP (Mosquitto re-reads its CRL and ACL). */
  signal(signal: NodeJS.Signals): Promise<void>;
  /** Resolves when it has exited (by itself or by stop()). */
  waitForExit(): Promise<void>;
  /** SIGTERM, SIGKILL after a grace period; resolves once it is gone (a container removed). Idempotent. */
  stop(): Promise<unknown>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A component the lab holds: started again in place by restart() (its ports, its directory), stopped once. */
export interface RestartableComponent {
  readonly logFile: string;
  readonly pid: number;
  readonly running: boolean;
  restart(): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The readiness strategy of a component: the line it writes once it serves, within a time limit. */
export interface Readiness {
  logMessage: RegExp;
  timeoutMs: number;
}

/**
 * A component that did not become ready: it exited, or the line never came. `output` is what it
 * wrote meanwhile, so a module can tell a port taken by another process (and try another).
 */
export class StartFailure extends Error {
  override name = 'StartFailure';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** The settings every builder shares: its name, its log file, how long it may take to start. */
export interface ComponentSettings {
  componentName: string;
  /** Where its output goes (redacted); none: its output is not kept. */
  logFile?: string;
  startupTimeoutMs: number;
}

export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
