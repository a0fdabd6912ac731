// Mosquitto as a child process: the Mosquitto module (environments/modules/mosquitto.ts) on the
// local placement, Debian's broker with its dynamic security plugin.
import { locateDynamicSecurityPlugin, locateTool } from '../tools/tools.ts';
import { MosquittoBuilder, mosquittoReadiness, StartedMosquittoHandle, startMosquitto, type MosquittoEndpoint } from '../modules/mosquitto.ts';
import type { ManagedProcess } from './child-process.ts';
import { ProcessModule, StartedProcess } from './process-module.ts';

export class MosquittoProcess extends MosquittoBuilder(ProcessModule) {
  constructor(binary = locateTool('mosquitto')) {
    super(binary);
    this.withDynamicSecurityPlugin(locateDynamicSecurityPlugin());
  }

  async start(): Promise<StartedMosquittoProcess> {
    const settings = this.mosquitto;
    return startMosquitto(settings, async (args, endpoint, dir, cleanup) => {
      const proc = await this.spawn({ name: settings.componentName, args, logFile: settings.logFile ?? '/dev/null', cwd: dir, readiness: mosquittoReadiness(settings) });
      return new StartedMosquittoProcess(proc, endpoint, cleanup);
    });
  }
}

export class StartedMosquittoProcess extends StartedMosquittoHandle(StartedProcess) {
  constructor(
    proc: ManagedProcess,
    protected readonly endpoint: MosquittoEndpoint,
    cleanup: () => void,
  ) {
    super(proc, cleanup);
  }
}
