// The containers backend of the environment contract: the same wiring as the local backend
// (environments/local/local-environment.ts: PKI, ca.json files, broker config, CRL publisher,
// broker administrator, restarts and rotations), each component in a container
// (container-runtime.ts). So the Gherkin suite, which reads configs, logs and certificates from
// the work directory and restarts components, runs on it unchanged.
import type { LabConfig } from '../../config/config.ts';
import { startLocalLab, type LocalLabOptions, type StartedLocalLab } from '../local/local-environment.ts';
import { containersRuntime } from './container-runtime.ts';

export function startContainersLab(config: LabConfig, options: Omit<LocalLabOptions, 'runtime'> = {}): Promise<StartedLocalLab> {
  return startLocalLab(config, { ...options, runtime: containersRuntime });
}
