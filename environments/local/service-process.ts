// The provisioning service's process as a forked Node.js child of the lab: the service-host
// module (environments/modules/service-host.ts) on the local placement. The fork's IPC channel is
// the RPC channel, open from the spawn on (messages wait until the child reads them), and the
// service exits when it closes (the lab went away).
import path from 'node:path';
import { repoRoot } from '../tools/tools.ts';
import type { Channel } from '../../net/rpc.ts';
import { requireDataDir, ServiceHostBuilder, type StartedServiceHost } from '../modules/service-host.ts';
import type { ManagedProcess } from './child-process.ts';
import { ProcessModule, StartedProcess } from './process-module.ts';

export class ServiceProcess extends ServiceHostBuilder(ProcessModule) {
  constructor() {
    super(process.execPath);
  }

  async start(): Promise<StartedServiceProcess> {
    const settings = this.serviceHost;
    const entry = path.join(repoRoot, settings.entry);
    const proc = await this.spawn({ name: settings.componentName, args: [entry, requireDataDir(settings)], logFile: settings.logFile ?? '/dev/null', ipc: true, cwd: path.dirname(entry) });
    return new StartedServiceProcess(proc);
  }
}

export class StartedServiceProcess extends StartedProcess implements StartedServiceHost {
  readonly channel: Channel;

  constructor(proc: ManagedProcess) {
    super(proc);
    this.channel = { send: (message) => proc.send(message), onMessage: (listener) => proc.onMessage(listener) };
  }
}
