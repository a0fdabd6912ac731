// One way to start a lab: the backend the configuration names (config `backend`,
// ECM_LAB_BACKEND, `ecm-lab up --backend`); local child processes unless it says containers.
import type { LabConfig } from '../config/config.ts';
import type { LocalLabOptions, StartedLocalLab } from './local/local-environment.ts';
import { startLocalLab } from './local/local-environment.ts';

export async function startLab(config: LabConfig, options: Omit<LocalLabOptions, 'runtime'> = {}): Promise<StartedLocalLab> {
  if (config.backend === 'containers') {
    // Loaded only when asked for: the local backend never loads testcontainers.
    const { startContainersLab } = await import('./containers/containers-environment.ts');
    return startContainersLab(config, options);
  }
  return startLocalLab(config, options);
}
