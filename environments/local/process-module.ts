// The local placement's side of the module contract (environments/modules/module.ts): a module
// is a child process of the lab (child-process.ts), its output in its log file, ready once it
// writes its readiness line; the builder mixins of step-ca, Mosquitto and the service's process
// are applied to ProcessModule, as the containers placement applies them to GenericContainer.
import type { StartedComponent } from '../modules/module.ts';
import { ManagedProcess, type ManagedProcessOptions } from './child-process.ts';

export class ProcessModule {
  protected readonly processEnv: Record<string, string> = {};

  /** The program it runs, on this host's PATH or the tools directory (tools.ts locateTool). */
  constructor(readonly command: string) {}

  /** Added to the environment the process gets (beside this process's own). */
  withEnvironment(env: Record<string, string>): this {
    Object.assign(this.processEnv, env);
    return this;
  }

  protected spawn(options: Omit<ManagedProcessOptions, 'command' | 'env'> & { env?: Record<string, string> }): Promise<ManagedProcess> {
    const env = { ...this.processEnv, ...options.env };
    return ManagedProcess.start({ ...options, command: this.command, env: Object.keys(env).length > 0 ? { ...process.env, ...env } : undefined });
  }
}

/** A started child process as the module contract sees it; `cleanup` runs once it is gone. */
export class StartedProcess implements StartedComponent {
  #stopping: Promise<void> | undefined;

  constructor(
    protected readonly process_: ManagedProcess,
    private readonly cleanup: () => void = () => undefined,
  ) {}

  get componentName(): string {
    return this.process_.name;
  }

  get logFile(): string {
    return this.process_.logFile;
  }

  get pid(): number {
    return this.process_.pid;
  }

  get running(): boolean {
    return this.process_.running;
  }

  get exitDescription(): string | undefined {
    return this.process_.exitDescription;
  }

  async signal(signal: NodeJS.Signals): Promise<void> {
    this.process_.signal(signal);
  }

  waitForExit(): Promise<void> {
    return this.process_.waitForExit();
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.process_.stop().finally(() => this.cleanup()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
