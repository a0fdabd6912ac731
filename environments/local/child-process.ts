// Child processes of the lab: each one's output goes to its own log file, and every process
// still alive when the lab's process exits is killed, so no component ever outlives the lab.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { Transform } from 'node:stream';
import { StartFailure, type Readiness } from '../modules/module.ts';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: a SIGKILL is the one thing that cannot be ignored.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * The 'exit' hook cannot run when the lab itself is SIGKILLed; the kernel's parent-death signal
 * (util-linux setpriv --pdeathsig) still kills the component then.
 */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  try {
    accessSync(SETPRIV, constants.X_OK);
    return [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]];
  } catch {
    return [command, args];
  }
}

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
  /** Open an IPC channel (a Node.js child): send() and onMessage() then talk over it. */
  ipc?: boolean;
  /** Resolve start() only once the process wrote this line (its readiness strategy). */
  readiness?: Readiness;
}

/** A JWT (JWS compact serialization): three base64url segments, the first a JSON object ("eyJ"). */
const JWT = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/**
 * Component logs are published with the reports, so bearer tokens must not reach them: step-ca
 * logs every one-time token it is given (`ott=eyJ...`), the provisioning service's included.
 */
export function redactLogText(text: string): string {
  return text.replace(JWT, '[REDACTED-JWT]');
}

/** Where every JWT begins (base64url of '{"'): output without it is passed on as it came. */
const JWT_START = Buffer.from('eyJ');

/**
 * Redacts whole lines only, so a token split across two reads is still recognised. The
 * components' output of a whole load run goes through here, in the lab's own event loop: a chunk
 * without a token is cut at its last newline and passed on as bytes, never decoded (a profile of
 * a 200-device run found this transform, decoding and matching every line, among the main
 * thread's largest costs). Lines end at an ASCII newline, so no cut splits a UTF-8 character.
 */
export function redactingLines(): Transform {
  let pending = Buffer.alloc(0);
  const redacted = (lines: Buffer) => (lines.includes(JWT_START) ? Buffer.from(redactLogText(lines.toString('utf8'))) : lines);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      const end = data.lastIndexOf(0x0a) + 1;
      pending = Buffer.from(data.subarray(end));
      done(null, end > 0 ? redacted(data.subarray(0, end)) : undefined);
    },
    flush(done) {
      done(null, pending.length > 0 ? redacted(pending) : undefined);
    },
  });
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly stopGraceMs: number;

  private constructor(child: ChildProcess, options: ManagedProcessOptions) {
    this.child = child;
    this.name = options.name;
    this.logFile = options.logFile;
    this.pid = child.pid!;
    this.stopGraceMs = options.stopGraceMs ?? 5000;
    this.exited = once(child, 'exit').then(([code, signal]) => {
      this.exitInfo = { code, signal };
      live.delete(child);
    });
  }

  static async start(options: ManagedProcessOptions): Promise<ManagedProcess> {
    installExitHook();
    mkdirSync(path.dirname(options.logFile), { recursive: true });
    const log = createWriteStream(options.logFile, { flags: 'a', mode: 0o600 });
    await once(log, 'open');
    const [command, args] = withParentDeathSignal(options.command, options.args);
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      serialization: 'advanced',
    });
    // The log ends once both streams have drained through the redaction, not at 'exit', which
    // can come before the last output was written.
    const outputs = [child.stdout!, child.stderr!].map((stream) => stream.pipe(redactingLines()));
    for (const output of outputs) output.pipe(log, { end: false });
    let logEnded = false;
    const endLog = () => {
      if (!logEnded) log.end();
      logEnded = true;
    };
    const drained = Promise.all(outputs.map((output) => once(output, 'end'))).then(endLog, endLog);
    const ready = options.readiness ? readyLine(outputs, drained, log, options) : undefined;
    const [outcome] = await Promise.race([
      once(child, 'spawn').then(() => ['spawned' as const]),
      once(child, 'error').then(([err]) => [err as Error]),
    ]);
    if (outcome instanceof Error) {
      endLog();
      throw new Error(`cannot start ${options.name} (${options.command}): ${outcome.message}`);
    }
    live.add(child);
    const proc = new ManagedProcess(child, options);
    if (ready) {
      try {
        proc.readyLine = await ready.line(async () => (await proc.waitForExit(), proc.exitDescription));
      } catch (err) {
        await proc.stop();
        throw err;
      }
    }
    return proc;
  }

  /** The line that said it was ready (options.readiness). */
  readyLine: string | undefined;

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Why the process ended, for error messages; undefined while it runs. */
  get exitDescription(): string | undefined {
    if (!this.exitInfo) return undefined;
    return this.exitInfo.signal ? `killed by ${this.exitInfo.signal}` : `exited with code ${this.exitInfo.code}`;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. Idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), this.stopGraceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a message over the IPC channel (ipc: true); false when the channel is closed. */
  send(message: unknown): boolean {
    return this.child.connected && this.child.send(message as never);
  }

  onMessage(listener: (message: unknown) => void): void {
    this.child.on('message', listener);
  }

  /** Resolves when the process exits by itself. */
  waitForExit(): Promise<void> {
    return this.exited;
  }
}

/**
 * Watches a starting process's output for its readiness line: resolves with the line, or fails
 * with what the process wrote when it exits first (once its output has drained: the reason is
 * often the last line) or when the time is up.
 */
function readyLine(outputs: Transform[], drained: Promise<void>, log: WriteStream, options: ManagedProcessOptions) {
  const { logMessage, timeoutMs } = options.readiness!;
  const what = `${options.name} to log ${logMessage} (log: ${options.logFile})`;
  let seen = '';
  let found: string | undefined;
  let pending = '';
  const matched = new Promise<string>((resolve) => {
    for (const output of outputs) {
      output.on('data', (chunk: Buffer) => {
        if (found !== undefined) return;
        const text = pending + chunk.toString('utf8');
        const lines = text.split('\n');
        pending = lines.pop() ?? '';
        seen += lines.map((l) => `${l}\n`).join('');
        const line = lines.find((l) => logMessage.test(l));
        if (line !== undefined) {
          found = line;
          resolve(line);
        }
      });
    }
  });
  return {
    async line(exitDescription: () => Promise<string | undefined>): Promise<string> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StartFailure(`timed out after ${timeoutMs} ms waiting for ${what}`, seen)), timeoutMs);
      });
      const ended = drained.then(async () => {
        throw new StartFailure(`gave up waiting for ${what}: ${options.name} ${(await exitDescription()) ?? 'closed its output'}; see ${options.logFile}`, seen + pending);
      });
      try {
        const line = await Promise.race([matched, ended, timeout]);
        // The line is in the log file too before start() returns (a reader of the log sees it):
        // a write's callback comes after every earlier write.
        if (!log.writableEnded) await new Promise<void>((resolve) => log.write('', () => resolve()));
        return line;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
