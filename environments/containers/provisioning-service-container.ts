// The provisioning service's process in a container (the lab's provisioning-service image): the
// service-host module (environments/modules/service-host.ts) on testcontainers' GenericContainer.
// It listens for the lab's RPC connection on a unix socket in its data directory (bind-mounted at
// the same path); the container is ready once it logs so, and the lab connects once.
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { socketChannel } from '../../net/rpc-socket.ts';
import type { Channel } from '../../net/rpc.ts';
import { requireDataDir, rpcSocketOf, ServiceHostBuilder, serviceHostReadiness, type StartedServiceHost } from '../modules/service-host.ts';
import { IMAGE_APP_DIR } from './images.ts';
import { LabContainer, StartedLabContainer, type ContainerRun } from './lab-container.ts';

export class ProvisioningServiceContainer extends ServiceHostBuilder(LabContainer) {
  readonly #node: string;

  constructor(image: string, node = '/usr/local/bin/node') {
    super(image);
    this.#node = node;
  }

  override async start(): Promise<StartedProvisioningServiceContainer> {
    const settings = this.serviceHost;
    const dataDir = requireDataDir(settings);
    const rpcSocket = rpcSocketOf(dataDir);
    // The mount's source: the service makes what it keeps there itself.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const run = await this.launch({
      componentName: settings.componentName,
      logFile: settings.logFile,
      readiness: serviceHostReadiness(settings),
      entrypoint: [this.#node],
      command: [path.posix.join(IMAGE_APP_DIR, settings.entry), dataDir],
      env: { ECM_LAB_RPC_SOCKET: rpcSocket },
      cwd: IMAGE_APP_DIR,
      directories: [dataDir],
    });
    const started = new StartedProvisioningServiceContainer(run);
    try {
      const socket = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(rpcSocket);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
      started.channel = socketChannel(socket);
    } catch (err) {
      await started.stop();
      throw new Error(`${settings.componentName} logged that it listens on ${rpcSocket}, but the lab cannot connect: ${(err as Error).message}`);
    }
    return started;
  }
}

export class StartedProvisioningServiceContainer extends StartedLabContainer implements StartedServiceHost {
  channel!: Channel;

  constructor(run: ContainerRun) {
    super(run);
  }
}
