// The local placement: every component a child process of the lab, from the pinned tools the
// bootstrap built (.tools/bin) or the system's (Mosquitto from Debian).
import { locateTool } from '../tools/tools.ts';
import type { Placement, PlacementContext } from '../modules/placement.ts';
import { MosquittoProcess } from './mosquitto-process.ts';
import { ServiceProcess } from './service-process.ts';
import { StepCaProcess } from './step-ca-process.ts';

export async function localPlacement(lab: Pick<PlacementContext, 'config'>): Promise<Placement> {
  const binDir = lab.config.toolsBinDir;
  return {
    backend: 'local',
    stepCa: () => new StepCaProcess(locateTool('step-ca', binDir)),
    mosquitto: () => new MosquittoProcess(locateTool('mosquitto', binDir)),
    serviceHost: () => new ServiceProcess(),
    close: async () => undefined,
  };
}
