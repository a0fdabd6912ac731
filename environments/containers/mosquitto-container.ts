// Mosquitto in a container: the Mosquitto module (environments/modules/mosquitto.ts) on
// testcontainers' GenericContainer. Its files are on the host, bind-mounted at the same paths.
import path from 'node:path';
import { MosquittoBuilder, mosquittoReadiness, StartedMosquittoHandle, startMosquitto, type MosquittoEndpoint } from '../modules/mosquitto.ts';
import { LabContainer, StartedLabContainer, type ContainerRun } from './lab-container.ts';
import { officialReference } from './images.ts';

export class MosquittoContainer extends MosquittoBuilder(LabContainer) {
  readonly #binary: string;

  /** The pinned official image by default; `binary` and the plugin as that image has them. */
  constructor(image = officialReference('mosquitto'), binary = '/usr/sbin/mosquitto', dynamicSecurityPlugin = '/usr/lib/mosquitto_dynamic_security.so') {
    super(image);
    this.#binary = binary;
    this.withDynamicSecurityPlugin(dynamicSecurityPlugin);
  }

  override async start(): Promise<StartedMosquittoContainer> {
    const settings = this.mosquitto;
    const files = settings.tls ? [settings.tls.caBundle, settings.tls.serverCert, settings.tls.serverKey, ...(settings.crlFile ? [settings.crlFile] : [])] : [];
    return startMosquitto(settings, async (args, endpoint, dir, cleanup) => {
      const run = await this.launch({
        componentName: settings.componentName,
        logFile: settings.logFile,
        readiness: mosquittoReadiness(settings),
        entrypoint: [this.#binary],
        command: args,
        cwd: dir,
        directories: [dir, ...files.map((f) => path.dirname(f))],
      });
      return new StartedMosquittoContainer(run, endpoint, cleanup);
    });
  }
}

export class StartedMosquittoContainer extends StartedMosquittoHandle(StartedLabContainer) {
  constructor(
    run: ContainerRun,
    protected readonly endpoint: MosquittoEndpoint,
    cleanup: () => void,
  ) {
    super(run, cleanup);
  }
}
