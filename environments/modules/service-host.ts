// The process of a Node.js server of the lab's own (the provisioning service) as a module: it
// runs the server's entry script and gives the lab a typed RPC channel to it (net/rpc.ts), over
// which the lab prepares and starts the server (provisioning-service.ts). Locally the channel is
// the fork's IPC channel; in a container, a unix socket in its data directory, which both see at
// the same path, and the container is ready once the process logs that it listens there.
import path from 'node:path';
import type { Channel } from '../../net/rpc.ts';
import { DEFAULT_STARTUP_TIMEOUT_MS, type ComponentSettings, type Constructor, type Readiness, type StartedComponent } from './module.ts';

export interface ServiceHostSettings extends ComponentSettings {
  /** The entry script, relative to the repository root (or the image's application directory). */
  entry: string;
  /** Its own directory (keys, databases, the RPC socket): on its command line, so `ps` shows whose it is. */
  dataDir?: string;
}

export const PROVISIONING_SERVICE_ENTRY = 'services/provisioning/process-entry.js';

export function serviceHostDefaults(): ServiceHostSettings {
  return { componentName: 'provisioning-service', entry: PROVISIONING_SERVICE_ENTRY, startupTimeoutMs: DEFAULT_STARTUP_TIMEOUT_MS };
}

/** The line services/provisioning/process-main.ts logs once its RPC socket listens. */
export const SERVICE_HOST_READY = /listening for the lab on \S+/;

export function serviceHostReadiness(settings: ServiceHostSettings): Readiness {
  return { logMessage: SERVICE_HOST_READY, timeoutMs: settings.startupTimeoutMs };
}

/** Where a containerised service listens for the lab's RPC connection. */
export function rpcSocketOf(dataDir: string): string {
  return path.join(dataDir, 'rpc.sock');
}

export function ServiceHostBuilder<TBase extends Constructor>(Base: TBase) {
  return class ServiceHostBuilder extends Base {
    readonly serviceHost: ServiceHostSettings = serviceHostDefaults();

    withDataDir(dir: string): this {
      if (!dir) throw new Error('withDataDir: a directory is required');
      this.serviceHost.dataDir = dir;
      return this;
    }

    withEntry(entry: string): this {
      this.serviceHost.entry = entry;
      return this;
    }

    withComponentName(name: string): this {
      this.serviceHost.componentName = name;
      return this;
    }

    withLogFile(file: string): this {
      this.serviceHost.logFile = file;
      return this;
    }

    withReadinessTimeout(ms: number): this {
      this.serviceHost.startupTimeoutMs = ms;
      return this;
    }
  };
}

export interface StartedServiceHost extends StartedComponent {
  /** The lab's end of the RPC channel. */
  readonly channel: Channel;
}

export function requireDataDir(settings: ServiceHostSettings): string {
  if (!settings.dataDir) throw new Error(`${settings.componentName}: withDataDir() is required`);
  return settings.dataDir;
}
