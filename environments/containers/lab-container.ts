// What every container of the lab has in common (StepCaContainer, MosquittoContainer,
// ProvisioningServiceContainer extend it): testcontainers' GenericContainer on the host's network
// (each device keeps its own 127.x address, step-ca reaches every device's http-01 responder, no
// port is mapped: podman here runs host networking only, DESIGN.md), its files bind-mounted at
// the same paths as on the host, run as a user that can read them, its output redacted into its
// log file, ready by testcontainers' Wait.forLogMessage, and labelled so the engine watchdog and
// the reaper (engine.ts) remove it whatever happens to the lab.
//
// Why Wait.forLogMessage and not Wait.forHttp: with host networking the engine reports no port
// bindings, and testcontainers' host, seen from a process that itself runs in a container (this
// CI), is the bridge gateway (10.88.0.1), where nothing of the lab listens; every component logs
// the line that says it listens (step-ca "Serving HTTPS on", Mosquitto "running").
import { chownSync, createWriteStream, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AbstractStartedContainer, GenericContainer, getContainerRuntimeClient, Wait, type StartedTestContainer, type StoppedTestContainer } from 'testcontainers';
import { redactingLines } from '../local/child-process.ts';
import { StartFailure, type Readiness, type StartedComponent } from '../modules/module.ts';
import { acquireEngine, type EngineLease } from './engine.ts';
import { IMAGE_USER } from './images.ts';

/**
 * Who the containers run as: the lab's own uid when it is not root (bind-mounted files stay
 * readable without any change), and the images' non-root user when the lab runs as root, the
 * lab then handing it the directories the container uses (root can read them either way).
 */
function containerUser(): { uid: number; gid: number } {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? { uid: IMAGE_USER.uid, gid: IMAGE_USER.gid } : { uid, gid: process.getgid?.() ?? uid };
}

function chownTree(target: string, uid: number, gid: number): void {
  if (!existsSync(target)) return;
  const stat = lstatSync(target);
  if (stat.isSymbolicLink()) return;
  if (stat.uid !== uid || stat.gid !== gid) chownSync(target, uid, gid);
  if (stat.isDirectory()) for (const entry of readdirSync(target)) chownTree(path.join(target, entry), uid, gid);
}

/** Directories as few mounts: one whose ancestor is mounted already needs none of its own. */
export function mountsFor(dirs: string[]): string[] {
  const sorted = [...new Set(dirs.map((d) => path.resolve(d)))].sort();
  return sorted.filter((dir, i) => !sorted.slice(0, i).some((parent) => dir.startsWith(`${parent}${path.sep}`)));
}

export interface LaunchOptions {
  componentName: string;
  logFile?: string;
  readiness: Readiness;
  entrypoint: string[];
  command: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Directories of its files: mounted at the same path, and handed to the container's user. */
  directories: string[];
  stopGraceMs?: number;
}

/** One run of a lab container: what its started handle needs to report on it and to stop it. */
export interface ContainerRun {
  started: StartedTestContainer;
  lease: EngineLease;
  componentName: string;
  logFile: string;
  pid: number;
  /** Resolves with the exit's description once the container's process has ended. */
  exited: Promise<string>;
  /** Hands the directories to the container's user again (files the lab rewrote since). */
  share(): void;
  stopGraceMs: number;
}

/** Container names stay unique within a process: a restart is a new container. */
let sequence = 0;

export class LabContainer extends GenericContainer {
  readonly #shared: string[] = [];
  #namePrefix: string | undefined;

  constructor(image: string) {
    super(image);
    // Host networking: loopback addresses, ports and source addresses are the host's.
    this.withNetworkMode('host');
  }

  /** Further directories the component reads (the lab's log directory, for the service's issuance feed). */
  withSharedDirectories(...dirs: string[]): this {
    this.#shared.push(...dirs);
    return this;
  }

  /** Names it `<prefix>-<component>-<n>` (the lab's id as the prefix: `podman ps` shows whose it is). */
  withNamePrefix(prefix: string): this {
    this.#namePrefix = prefix;
    return this;
  }

  protected async launch(options: LaunchOptions): Promise<ContainerRun> {
    const lease = await acquireEngine();
    try {
      return await this.#run(options, lease);
    } catch (err) {
      await lease.release();
      throw err;
    }
  }

  async #run(options: LaunchOptions, lease: EngineLease): Promise<ContainerRun> {
    const logFile = options.logFile ?? '/dev/null';
    mkdirSync(path.dirname(logFile), { recursive: true });
    const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
    await once(log, 'open');
    const user = containerUser();
    const dirs = [...options.directories, ...this.#shared];
    // Its log file too: the lab writes it (through an open descriptor), the provisioning service's
    // container reads the authorities' logs (its issuance feed) as the same user.
    const owned = options.logFile ? [...dirs, options.logFile] : dirs;
    const share = () => {
      if ((process.getuid?.() ?? 0) === 0) for (const target of owned) chownTree(target, user.uid, user.gid);
    };
    share();
    let output = '';
    let logEnded!: () => void;
    const ended = new Promise<void>((resolve) => (logEnded = resolve));
    const { nofile, nproc } = lease.engine.ulimits;
    if (this.#namePrefix) this.withName(`${this.#namePrefix}-${options.componentName}-${++sequence}`);
    this.withUser(`${user.uid}:${user.gid}`)
      .withEntrypoint(options.entrypoint)
      .withCommand(options.command)
      .withEnvironment(options.env ?? {})
      .withWorkingDir(options.cwd ?? '/')
      .withBindMounts(mountsFor(dirs).map((dir) => ({ source: dir, target: dir, mode: 'rw' as const })))
      .withLabels(lease.labels(options.componentName))
      // At or below this process's limits: raising one fails without CAP_SYS_RESOURCE.
      .withUlimits({ nofile: { soft: nofile.soft, hard: nofile.hard }, nproc: { soft: nproc.soft, hard: nproc.hard } })
      .withWaitStrategy(Wait.forLogMessage(options.readiness.logMessage))
      .withStartupTimeout(options.readiness.timeoutMs)
      .withLogConsumer((stream: Readable) => {
        const redact = redactingLines();
        redact.pipe(log);
        redact.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
        const end = () => {
          redact.end();
          logEnded();
        };
        stream.on('data', (chunk: string | Buffer) => redact.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
        stream.once('end', end);
        stream.once('error', end);
      });
    let started: StartedTestContainer;
    try {
      started = await super.start();
    } catch (err) {
      // testcontainers removed the container; its last lines say why (a port taken, a bad file).
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 2000))]);
      log.end();
      throw new StartFailure(`${options.componentName} did not become ready: ${(err as Error).message}; see ${logFile}`, output);
    }
    // testcontainers read the readiness line on a stream of its own: the lab's log file has it
    // too before start() returns (a reader of the log sees it), or the container's output ended.
    const seen = Date.now();
    while (!options.readiness.logMessage.test(output) && Date.now() - seen < 5000) {
      if (await Promise.race([ended.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 20))])) break;
    }
    if (!log.writableEnded) await new Promise<void>((resolve) => log.write('', () => resolve()));
    const client = await getContainerRuntimeClient();
    const container = client.container.getById(started.getId());
    const pid = (await client.container.inspect(container)).State.Pid;
    // The log stream ends when the container's process does: then read why from the engine.
    const exited = ended.then(async () => {
      const state = await client.container.inspect(container).then((i) => i.State, () => undefined);
      const code = state?.ExitCode ?? -1;
      return code > 128 ? `killed by signal ${code - 128} (container ${started.getName()})` : `exited with code ${code} (container ${started.getName()})`;
    });
    return { started, lease, componentName: options.componentName, logFile, pid, exited, share, stopGraceMs: options.stopGraceMs ?? 5000 };
  }
}

/** A started lab container as the module contract (environments/modules/module.ts) sees it. */
export class StartedLabContainer extends AbstractStartedContainer implements StartedComponent {
  #exit: string | undefined;
  #stopping: Promise<StoppedTestContainer> | undefined;

  constructor(
    protected readonly run: ContainerRun,
    private readonly cleanup: () => void = () => undefined,
  ) {
    super(run.started);
    void run.exited.then((description) => (this.#exit = description));
  }

  get componentName(): string {
    return this.run.componentName;
  }

  get logFile(): string {
    return this.run.logFile;
  }

  get pid(): number {
    return this.run.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  get exitDescription(): string | undefined {
    return this.#exit;
  }

  /** `kill --signal` through the engine (testcontainers' client: dockerode). */
  async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    // Files the lab rewrote since the start (a CRL, the ACL) must stay readable to the container.
    this.run.share();
    const client = await getContainerRuntimeClient();
    await client.container.getById(this.getId()).kill({ signal: signal.replace(/^SIG/, '') });
  }

  async waitForExit(): Promise<void> {
    await this.run.exited;
  }

  /**
   * docker stop (SIGTERM, SIGKILL after the grace period); once its log has ended (its exit read
   * from the engine, bounded: the log stream's socket does not hold the process open), the
   * container is removed with its volumes. Idempotent.
   */
  override stop(): Promise<StoppedTestContainer> {
    return (this.#stopping ??= (async () => {
      try {
        const stopped = await this.startedTestContainer.stop({ timeout: this.run.stopGraceMs, remove: false });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.run.exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
        clearTimeout(timer);
        const client = await getContainerRuntimeClient();
        await client.container.remove(client.container.getById(this.getId()), { removeVolumes: true });
        return stopped;
      } finally {
        this.cleanup();
        await this.run.lease.release();
      }
    })());
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
