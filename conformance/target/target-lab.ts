// A target as the suite holds it: the contract's endpoints (environments/started-lab.ts) from the
// target description, and each component's log as a local file the suite can mark and read,
// whether the target names a file or a command that prints the log as it grows (followed here
// for the run). Nothing of the installation itself is started or stopped.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StartedLab } from '../../environments/started-lab.ts';
import { ManagedProcess } from '../../environments/local/child-process.ts';
import type { LogSource, Target } from './target.ts';

/** Which evidence a log-based assertion about a component used: a file, a followed command, or none. */
export type LogEvidence = { component: string; source: 'file'; path: string } | { component: string; source: 'command'; command: string[]; path: string };

export interface TargetLab extends StartedLab {
  target: Target;
  /** The log the suite reads for each component the target gave one for. */
  evidence: Record<string, LogEvidence>;
}

const COMPONENT_LOGS = { 'step-ca': (t: Target) => t.ca.log, 'bootstrap-ca': (t: Target) => t.bootstrapCa.log, mosquitto: (t: Target) => t.broker.log, 'provisioning-audit': (t: Target) => t.provisioning.auditLog } as const;

export async function openTargetLab(target: Target, options: { logsDir: string }): Promise<TargetLab> {
  const id = `${target.name}-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
  // The clients' stores (private keys) are the suite's own, never inside the installation.
  const workDir = mkdtempSync(path.join(os.tmpdir(), `ecm-lab-target-${target.name}-`));
  const logDir = path.join(options.logsDir, id);
  mkdirSync(logDir, { recursive: true });
  const followers: ManagedProcess[] = [];
  const evidence: Record<string, LogEvidence> = {};
  for (const [component, of] of Object.entries(COMPONENT_LOGS)) {
    const source: LogSource | undefined = of(target);
    if (!source) continue;
    if ('path' in source) {
      evidence[component] = { component, source: 'file', path: source.path };
    } else {
      const file = path.join(logDir, `${component}.log`);
      followers.push(await ManagedProcess.start({ name: `${component} log`, command: source.command[0]!, args: source.command.slice(1), logFile: file }));
      evidence[component] = { component, source: 'command', command: source.command, path: file };
    }
  }
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.allSettled(followers.map((f) => f.stop()));
      rmSync(workDir, { recursive: true, force: true });
    })());
  const provisioner = target.ca.provisioners.x5c;
  return {
    id,
    backend: 'target',
    target,
    workDir,
    evidence,
    ca: {
      url: target.ca.url,
      rootPem: target.ca.rootPem,
      caBundlePem: target.ca.caBundlePem ?? target.ca.rootPem,
      x5c: { provisioner, audience: target.ca.x5cAudience ?? `${target.ca.url}/1.0/sign#x5c/${provisioner}` },
      jwkProvisioner: target.ca.provisioners.jwk ?? '',
    },
    bootstrapCa: {
      url: target.bootstrapCa.url,
      rootPem: target.bootstrapCa.rootPem,
      acmeDirectoryUrl: target.bootstrapCa.acmeDirectory ?? target.provisioning.acmeDirectory,
      acmeHttpPort: target.bootstrapCa.acmeHttpPort,
      jwkProvisioner: target.bootstrapCa.provisioners?.jwk ?? '',
    },
    broker: { host: target.broker.host, port: target.broker.port, url: `mqtts://${target.broker.host}:${target.broker.port}`, legacyPort: target.broker.legacyPort },
    provisioning: {
      url: target.provisioning.url,
      insecureUrl: target.provisioning.insecureUrl,
      acmeDirectoryUrl: target.provisioning.acmeDirectory,
      hooksUrl: target.provisioning.hooksUrl,
      adminToken: target.provisioning.adminToken,
      auditLogFile: evidence['provisioning-audit']?.path ?? '',
    },
    logs: Object.fromEntries([...Object.values(evidence).map((e) => [e.component, e.path]), ['clients', path.join(logDir, 'clients.log')]]),
    processes: () => [],
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
