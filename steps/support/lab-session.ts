// One lab per cucumber process: started before the first scenario, stopped after the last
// (and on SIGINT/SIGTERM, by the environment itself).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type LabConfig, type LabConfigInput } from '../../environments/config.ts';
import type { StartedLocalLab } from '../../environments/local/local-environment.ts';
import { startLab } from '../../environments/start-lab.ts';
import { startChallengeResponder, type StartedChallengeResponder } from '../../simulators/acme/http01-responder.ts';
import { ACME_CHALLENGE_PATH } from '../../simulators/fleet/fleet-lab.ts';
import { labEndpoints, type LabEndpoints } from '../../simulators/client/lab-endpoints.ts';

export interface LabSession {
  /** Webroot for http-01 (the step CLI writes <webroot>/.well-known/acme-challenge/<token>; the responder serves them). */
  acmeWebroot: string;
  config: LabConfig;
  lab: StartedLocalLab;
  responder: StartedChallengeResponder;
  endpoints: LabEndpoints;
  /** Cucumber worker number; parallel workers get disjoint client addresses. */
  worker: number;
}

let session: LabSession | undefined;

/** A lab with its own challenge responder; `stop` ends both. */
export async function openLabSession(overrides: LabConfigInput = {}): Promise<LabSession & { stop(): Promise<void> }> {
  const config = loadConfig({ overrides });
  const lab = await startLab(config);
  try {
    const acmeWebroot = path.join(lab.workDir, 'acme-webroot');
    const challenges = path.join(acmeWebroot, ...ACME_CHALLENGE_PATH);
    mkdirSync(challenges, { recursive: true, mode: 0o755 });
    const responder = await startChallengeResponder(lab.bootstrapCa.acmeHttpPort, { webroot: challenges });
    const stop = async () => {
      await Promise.allSettled([responder.stop()]);
      await lab.stop();
    };
    return { config, lab, responder, acmeWebroot, endpoints: labEndpoints(lab, responder), worker: Number(process.env.CUCUMBER_WORKER_ID ?? 0), stop };
  } catch (err) {
    await lab.stop();
    throw err;
  }
}

export async function startLabSession(): Promise<LabSession> {
  // Server-side key generation is off by default; the suite turns it on so that its attacks can
  // try that path too (its refusal when off is an integration test).
  session = await openLabSession({ provisioning: { serverKeyGen: true } });
  return session;
}

export function currentLabSession(): LabSession {
  if (!session) throw new Error('the lab is not running: the BeforeAll hook failed (see its error above)');
  return session;
}

export async function stopLabSession(): Promise<void> {
  const s = session as (LabSession & { stop(): Promise<void> }) | undefined;
  session = undefined;
  await s?.stop();
}
