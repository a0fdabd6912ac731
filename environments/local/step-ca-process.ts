// step-ca as a child process: the step-ca module (environments/modules/step-ca.ts) on the local
// placement. The binary is the bootstrap's pinned build (.tools/bin/step-ca) unless given.
import { locateTool } from '../tools/tools.ts';
import { StartedStepCaHandle, StepCaBuilder, startStepCa, stepCaReadiness, type StepCaEndpoint } from '../modules/step-ca.ts';
import type { ManagedProcess } from './child-process.ts';
import { ProcessModule, StartedProcess } from './process-module.ts';

export class StepCaProcess extends StepCaBuilder(ProcessModule) {
  constructor(binary = locateTool('step-ca')) {
    super(binary);
  }

  async start(): Promise<StartedStepCaProcess> {
    const settings = this.stepCa;
    const logFile = settings.logFile ?? '/dev/null';
    return startStepCa(settings, async (args, endpoint, prepared) => {
      const proc = await this.spawn({ name: settings.componentName, args, logFile, cwd: prepared.dir, env: settings.env, readiness: stepCaReadiness(settings) });
      return new StartedStepCaProcess(proc, endpoint, () => prepared.cleanup());
    });
  }
}

export class StartedStepCaProcess extends StartedStepCaHandle(StartedProcess) {
  constructor(
    proc: ManagedProcess,
    protected readonly endpoint: StepCaEndpoint,
    cleanup: () => void,
  ) {
    super(proc, cleanup);
  }
}
