// step-ca in a container: the step-ca module (environments/modules/step-ca.ts) on testcontainers'
// GenericContainer, usable alone (docs/guides/step-ca-container.md):
//
//   await using ca = await new StepCaContainer(image).withProvisioners([{ type: 'ACME', name: 'acme' }]).start();
//   ca.getCaUrl(); ca.getRootPem();
//
// Its ca.json, keys and database are on the host (its directory, bind-mounted at the same path),
// so a restart on the same directory keeps what it issued.
import path from 'node:path';
import { StartedStepCaHandle, StepCaBuilder, startStepCa, stepCaReadiness, type StepCaEndpoint } from '../modules/step-ca.ts';
import { LabContainer, StartedLabContainer, type ContainerRun } from './lab-container.ts';
import { officialReference } from './images.ts';

/** Where the official image and the lab's local one keep the binary. */
const STEP_CA_BINARY = '/usr/local/bin/step-ca';

export class StepCaContainer extends StepCaBuilder(LabContainer) {
  readonly #binary: string;

  /** The pinned official image by default (environments/tools/versions.json). */
  constructor(image = officialReference('step-ca'), binary = STEP_CA_BINARY) {
    super(image);
    this.#binary = binary;
  }

  override async start(): Promise<StartedStepCaContainer> {
    const settings = this.stepCa;
    return startStepCa(settings, async (args, endpoint, prepared) => {
      const run = await this.launch({
        componentName: settings.componentName,
        logFile: settings.logFile,
        readiness: stepCaReadiness(settings),
        entrypoint: [this.#binary],
        command: args,
        env: settings.env,
        cwd: prepared.dir,
        directories: [prepared.dir, path.dirname(prepared.rootCertFile)],
      });
      return new StartedStepCaContainer(run, endpoint, () => prepared.cleanup());
    });
  }
}

export class StartedStepCaContainer extends StartedStepCaHandle(StartedLabContainer) {
  constructor(
    run: ContainerRun,
    protected readonly endpoint: StepCaEndpoint,
    cleanup: () => void,
  ) {
    super(run, cleanup);
  }
}
