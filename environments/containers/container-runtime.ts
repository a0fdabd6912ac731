// The containers backend's component runtime: every component is a testcontainers
// GenericContainer on the host's network (each device keeps its own 127.x address, step-ca
// reaches every device's http-01 responder, no port is mapped), with the lab's work directory and
// log directory bind-mounted at the same paths, so configuration files, keys, certificates and
// logs are exactly where the lab and the scenarios expect them. A reload is a signal to the
// container (`kill --signal HUP`), a restart a new container, and a component's pid is its main
// process on the host (the engine's inspect), so CPU is metered from /proc as for a child.
import { chownSync, createWriteStream, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import type { LabConfig } from '../../config/config.ts';
import type { ComponentProgram, ComponentRuntime, RunningComponent } from '../components.ts';
import { GiveUp, waitFor } from '../wait.ts';
import { redactingLines } from '../local/child-process.ts';
import { socketChannel } from '../../net/rpc-socket.ts';
import { inspectContainer, signalContainer } from './engine-api.ts';
import { acquireEngine, type Engine, type EngineLease } from './engine.ts';
import { IMAGE_APP_DIR, IMAGE_USER, resolveImage, type ImageName, type ResolvedImage } from './images.ts';

/** One resolution per process and image: the pull is tried, and a fallback said, once. */
const resolved = new Map<ImageName, Promise<ResolvedImage>>();

function imageFor(engine: Engine, name: ImageName, config: LabConfig): Promise<ResolvedImage> {
  let image = resolved.get(name);
  if (!image) {
    image = resolveImage(engine, name, {
      prefer: config.containers.images,
      toolsBinDir: config.toolsBinDir,
      pullTimeoutMs: config.containers.pullTimeoutMs,
      say: (line) => console.error(`ecm-lab: ${line}`),
    });
    image.catch(() => resolved.delete(name));
    resolved.set(name, image);
  }
  return image;
}

/**
 * Who the containers run as: the lab's own uid when it is not root (bind-mounted files stay
 * readable without any change), and the images' non-root user when the lab runs as root, the
 * lab then handing it the component directories (root can read them either way).
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

/** The component directories of a lab's work directory (device stores and webroots stay the lab's). */
const COMPONENT_DIRS = ['pki', 'step-ca', 'bootstrap-ca', 'mosquitto', 'provisioning'];

class ContainerComponent implements RunningComponent {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  #exit: { code: number; description: string } | undefined;
  readonly #exited: Promise<void>;
  #stopping: Promise<void> | undefined;
  readonly #beforeSignal: () => void;
  readonly #stopGraceMs: number;

  constructor(
    private readonly engine: Engine,
    private readonly container: StartedTestContainer,
    options: { name: string; logFile: string; pid: number; logEnded: Promise<void>; beforeSignal: () => void; stopGraceMs: number },
  ) {
    this.name = options.name;
    this.logFile = options.logFile;
    this.pid = options.pid;
    this.#beforeSignal = options.beforeSignal;
    this.#stopGraceMs = options.stopGraceMs;
    // The log stream ends when the container's process does: then read why from the engine.
    this.#exited = options.logEnded.then(async () => {
      const state = await inspectContainer(engine, container.getId()).catch(() => undefined);
      const code = state?.State.ExitCode ?? -1;
      this.#exit = { code, description: code > 128 ? `killed by signal ${code - 128} (container ${container.getName()})` : `exited with code ${code} (container ${container.getName()})` };
    });
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  get exitDescription(): string | undefined {
    return this.#exit?.description;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    // Files the lab rewrote since the start (a CRL, the ACL) must stay readable to the container.
    this.#beforeSignal();
    signalContainer(this.engine, this.container.getId(), signal.replace(/^SIG/, '')).catch((err: Error) => console.error(`ecm-lab: could not signal ${this.name}: ${err.message}`));
  }

  /** docker stop (SIGTERM, SIGKILL after the grace period), then the container is removed with its volumes. */
  stop(): Promise<void> {
    return (this.#stopping ??= (async () => {
      await this.container.stop({ timeout: this.#stopGraceMs, remove: true, removeVolumes: true });
      await this.#exited;
    })());
  }

  waitForExit(): Promise<void> {
    return this.#exited;
  }
}

export interface ContainersRuntimeOptions {
  id: string;
  workDir: string;
  logsDir: string;
  config: LabConfig;
}

export async function containersRuntime(lab: ContainersRuntimeOptions): Promise<ComponentRuntime> {
  const lease: EngineLease = await acquireEngine();
  const { engine } = lease;
  let images: Record<'step-ca' | 'mosquitto' | 'provisioning-service', ResolvedImage>;
  try {
    const [stepCa, mosquitto, service] = await Promise.all((['step-ca', 'mosquitto', 'provisioning-service'] as const).map((name) => imageFor(engine, name, lab.config)));
    images = { 'step-ca': stepCa!, mosquitto: mosquitto!, 'provisioning-service': service! };
  } catch (err) {
    await lease.release();
    throw err;
  }
  const user = containerUser();
  const share = () => {
    if ((process.getuid?.() ?? 0) !== 0) return;
    // The work directory itself, so a container can reach (and the service create) its own directory.
    chownSync(lab.workDir, user.uid, user.gid);
    for (const dir of COMPONENT_DIRS) chownTree(path.join(lab.workDir, dir), user.uid, user.gid);
    chownTree(lab.logsDir, user.uid, user.gid);
  };
  let sequence = 0;

  async function startContainer(options: {
    name: string;
    image: ResolvedImage;
    entrypoint: string[];
    command: string[];
    env?: Record<string, string>;
    cwd?: string;
    logFile: string;
    stopGraceMs?: number;
  }): Promise<ContainerComponent> {
    mkdirSync(path.dirname(options.logFile), { recursive: true });
    const log = createWriteStream(options.logFile, { flags: 'a', mode: 0o600 });
    await once(log, 'open');
    // After the log file exists: Mosquitto opens it itself (log_dest file).
    share();
    let logEnded!: () => void;
    const ended = new Promise<void>((resolve) => (logEnded = resolve));
    const mounts = [lab.workDir, lab.logsDir].map((dir) => ({ source: dir, target: dir, mode: 'rw' as const }));
    const { nofile, nproc } = engine.ulimits;
    const container = await new GenericContainer(options.image.reference)
      .withName(`ecm-lab-${lab.id}-${options.name}-${++sequence}`)
      // Host networking: loopback addresses, ports and source addresses are the host's.
      .withNetworkMode('host')
      .withUser(`${user.uid}:${user.gid}`)
      .withEntrypoint(options.entrypoint)
      .withCommand(options.command)
      .withEnvironment(options.env ?? {})
      .withWorkingDir(options.cwd ?? '/')
      .withBindMounts(mounts)
      .withLabels(lease.labels(lab.id, options.name))
      // At or below this process's limits: raising one fails without CAP_SYS_RESOURCE.
      .withUlimits({ nofile: { soft: nofile.soft, hard: nofile.hard }, nproc: { soft: nproc.soft, hard: nproc.hard } })
      .withLogConsumer((stream: Readable) => {
        const redact = redactingLines();
        redact.pipe(log);
        stream.on('data', (chunk: string | Buffer) => redact.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
        stream.once('end', () => {
          redact.end();
          logEnded();
        });
        stream.once('error', () => {
          redact.end();
          logEnded();
        });
      })
      // Readiness is the lab's own strategy (components.ts startReady), which also notices an exit.
      .withStartupTimeout(lab.config.readinessTimeoutMs)
      .start();
    const state = await inspectContainer(engine, container.getId());
    return new ContainerComponent(engine, container, {
      name: options.name,
      logFile: options.logFile,
      pid: state?.State.Pid ?? 0,
      logEnded: ended,
      beforeSignal: share,
      stopGraceMs: options.stopGraceMs ?? 5000,
    });
  }

  const programImage = (program: ComponentProgram) => images[program];

  return {
    backend: 'containers',
    start: (spec) => {
      const image = programImage(spec.program);
      return startContainer({ name: spec.name, image, entrypoint: [image.binary], command: spec.args, env: spec.env, cwd: spec.cwd, logFile: spec.logFile, stopGraceMs: spec.stopGraceMs });
    },
    async startNodeService(spec) {
      const image = images['provisioning-service'];
      const component = await startContainer({
        name: spec.name,
        image,
        entrypoint: [image.binary],
        command: [path.posix.join(IMAGE_APP_DIR, spec.entry), ...spec.args],
        env: { ECM_LAB_RPC_SOCKET: spec.rpcSocket },
        cwd: IMAGE_APP_DIR,
        logFile: spec.logFile,
      });
      try {
        const socket = await waitFor(
          `${spec.name} to listen on ${spec.rpcSocket} (log: ${spec.logFile})`,
          async () => {
            if (!component.running) throw new GiveUp(`${spec.name} ${component.exitDescription}; see ${spec.logFile}`);
            if (!existsSync(spec.rpcSocket)) return false;
            return new Promise<net.Socket | false>((resolve) => {
              const socket = net.connect(spec.rpcSocket);
              socket.once('connect', () => resolve(socket));
              socket.once('error', () => resolve(false));
            });
          },
          { timeoutMs: lab.config.readinessTimeoutMs, intervalMs: 25 },
        );
        const channel = socketChannel(socket);
        return { process: component, channel };
      } catch (err) {
        await component.stop();
        throw err;
      }
    },
    dynamicSecurityPlugin: () => images.mosquitto.dynamicSecurityPlugin ?? '/usr/lib/mosquitto_dynamic_security.so',
    close: () => lease.release(),
  };
}
