// One way to start a lab: the placement the configuration names (config `backend`,
// ECM_LAB_BACKEND, `ecm-lab up --backend`); child processes unless it says containers.
import type { LabConfig } from '../config/config.ts';
import { startOwnedLab, type LabOptions, type OwnedLab } from './lab.ts';

export async function startLab(config: LabConfig, options: Omit<LabOptions, 'placement'> = {}): Promise<OwnedLab> {
  if (config.backend === 'containers') {
    // Loaded only when asked for: the local backend never loads testcontainers.
    const { containersPlacement } = await import('./containers/containers-placement.ts');
    return startOwnedLab(config, { ...options, placement: containersPlacement });
  }
  return startOwnedLab(config, options);
}
