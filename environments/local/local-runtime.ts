// The local backend's component runtime: every component is a child process of the lab
// (child-process.ts), the provisioning service a forked Node.js child with an IPC channel.
import path from 'node:path';
import type { LabConfig } from '../../config/config.ts';
import type { ComponentRuntime } from '../components.ts';
import { locateDynamicSecurityPlugin, locateTool, repoRoot } from '../tools/tools.ts';
import { ManagedProcess } from './child-process.ts';

export function localRuntime(config: Pick<LabConfig, 'toolsBinDir'>): ComponentRuntime {
  return {
    backend: 'local',
    start: (spec) =>
      ManagedProcess.start({
        name: spec.name,
        command: locateTool(spec.program, config.toolsBinDir),
        args: spec.args,
        logFile: spec.logFile,
        cwd: spec.cwd,
        env: spec.env ? { ...process.env, ...spec.env } : undefined,
        stopGraceMs: spec.stopGraceMs,
      }),
    async startNodeService(spec) {
      const entry = path.join(repoRoot, spec.entry);
      // The IPC channel of the fork: the service exits when it closes (the lab went away).
      const proc = await ManagedProcess.start({ name: spec.name, command: process.execPath, args: [entry, ...spec.args], logFile: spec.logFile, ipc: true, cwd: path.dirname(entry) });
      return { process: proc, channel: { send: (message) => proc.send(message), onMessage: (listener) => proc.onMessage(listener) } };
    },
    dynamicSecurityPlugin: locateDynamicSecurityPlugin,
    close: async () => undefined,
  };
}
