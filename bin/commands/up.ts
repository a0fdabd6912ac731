// ecm-lab up: start the lab and keep it running so engineers can point their own clients at it.
import { loadConfig } from '../../config/config.ts';
import { describeLab, type StartedLab } from '../../environments/started-lab.ts';
import type { Capability } from '../../conformance/target/capabilities.ts';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startLab } from '../../environments/start-lab.ts';
import { startChallengeResponder } from '../../simulators/acme/http01-responder.ts';
import { ACME_CHALLENGE_PATH } from '../../load/fleet-lab.ts';
import { EXIT } from '../exit-codes.ts';

/**
 * What a suite in another process may do with this lab: read its log files, ask for lifetimes
 * as short as its provisioners allow, dial its legacy listener. Its CA keys, its processes and
 * its configuration stay this process's own.
 */
function grantsToOtherProcesses(lab: StartedLab): Capability[] {
  return ['broker-log', 'ca-log', 'clock', ...(lab.broker.legacyPort ? (['legacy-listener'] as const) : [])];
}

export async function upCommand(global: { config?: string }, opts: { json?: boolean; serveChallenges?: boolean; backend?: 'local' | 'containers' }): Promise<void> {
  const config = loadConfig({ file: global.config, overrides: opts.backend ? { backend: opts.backend } : undefined });
  if (!opts.json) console.error(`starting the two step-ca authorities, Mosquitto and the provisioning service${config.backend === 'containers' ? ' in containers' : ''}...`);
  const lab = await startLab(config);
  // A valid target (conformance/target/target.ts) for `ecm-lab run --target` from another process.
  const description: Record<string, unknown> = { name: 'ecm-lab-up', ...describeLab(lab), grants: grantsToOtherProcesses(lab) };
  let responder: Awaited<ReturnType<typeof startChallengeResponder>> | undefined;
  if (opts.serveChallenges) {
    // Fleet segments (ecm-lab load --lab) write key authorizations here; this process answers step-ca.
    const webroot = path.join(lab.workDir, 'acme-webroot');
    const challenges = path.join(webroot, ...ACME_CHALLENGE_PATH);
    mkdirSync(challenges, { recursive: true, mode: 0o755 });
    responder = await startChallengeResponder(lab.bootstrapCa.acmeHttpPort, { webroot: challenges });
    description.acmeWebroot = webroot;
  }
  if (opts.json) {
    console.log(JSON.stringify(description));
  } else {
    console.log(`ecm-lab ${lab.id} is up (Ctrl-C to stop)
  CA URL         ${lab.provisioning.url}  (the operational authority's API for X5C and renewal, through the provisioning service)
  root CA        ${lab.ca.rootPem}  (the one root devices, the broker and the service trust)
  ACME directory ${lab.provisioning.acmeDirectoryUrl}  (gated by the provisioning service; http-01 validation on port ${lab.bootstrapCa.acmeHttpPort} of each identifier)
  X5C            provisioner "${lab.ca.x5c.provisioner}", audience ${lab.ca.x5c.audience}
  step-ca        ${lab.ca.url} (operational), ${lab.bootstrapCa.url} (bootstrap; root ${lab.bootstrapCa.rootPem})
  broker (mTLS)  ${lab.broker.url}
  provisioning   ${lab.provisioning.url} (admin page ${lab.provisioning.url}/admin; bootstrap over plain HTTP ${lab.provisioning.insecureUrl})
  admin token    ${lab.provisioning.adminToken}   (shown once; set provisioning.adminToken to choose it)
  logs           ${Object.values(lab.logs).join(', ')}${responder ? `
  http-01        answered on port ${lab.bootstrapCa.acmeHttpPort} from ${String(description.acmeWebroot)} (for ecm-lab load --lab)` : ''}`);
  }
  // The lab stops on SIGINT/SIGTERM (stopOnSignal); if a component dies, stop everything and say so.
  const watched = [lab.stepCa, lab.bootstrapStepCa, lab.mosquitto, lab.provisioningService];
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const dead = watched.find((c) => !c.running);
      if (!dead) return;
      clearInterval(timer);
      console.error(`ecm-lab: a component stopped unexpectedly; see ${dead.logFile}`);
      process.exitCode = EXIT.couldNotRun;
      void lab.stop().finally(resolve);
    }, 500);
    // Ctrl-C reaches the components too (same process group): their exit is then no surprise.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => clearInterval(timer));
  });
  await responder?.stop();
}
