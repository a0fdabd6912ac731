// The containers placement: every component a container on the host's network (lab-container.ts),
// through the Docker-compatible engine testcontainers talks to (engine.ts finds or starts it). The
// images are resolved once per process: the official step-ca and Mosquitto images when they can be
// pulled (and the config does not ask for local ones), else the lab's locally built equivalents,
// said so; the provisioning service is always the lab's own image.
import type { LabConfig } from '../../config/config.ts';
import type { Placement, PlacementContext } from '../modules/placement.ts';
import { acquireEngine, LABELS, type Engine } from './engine.ts';
import { resolveImage, type ImageName, type ResolvedImage } from './images.ts';
import { MosquittoContainer } from './mosquitto-container.ts';
import { ProvisioningServiceContainer } from './provisioning-service-container.ts';
import { StepCaContainer } from './step-ca-container.ts';

/** One resolution per process and image: the pull is tried, and a fallback said, once. */
const resolved = new Map<ImageName, Promise<ResolvedImage>>();

function imageFor(engine: Engine, name: ImageName, config: LabConfig): Promise<ResolvedImage> {
  let image = resolved.get(name);
  if (!image) {
    image = resolveImage(engine, name, {
      prefer: config.containers.images,
      toolsBinDir: config.toolsBinDir,
      pullTimeoutMs: config.containers.pullTimeoutMs,
      say: (line) => console.error(`ecm-lab: ${line}`),
    });
    image.catch(() => resolved.delete(name));
    resolved.set(name, image);
  }
  return image;
}

export async function containersPlacement(lab: PlacementContext): Promise<Placement> {
  const lease = await acquireEngine();
  let images: Record<'step-ca' | 'mosquitto' | 'provisioning-service', ResolvedImage>;
  try {
    const [stepCa, mosquitto, service] = await Promise.all((['step-ca', 'mosquitto', 'provisioning-service'] as const).map((name) => imageFor(lease.engine, name, lab.config)));
    images = { 'step-ca': stepCa!, mosquitto: mosquitto!, 'provisioning-service': service! };
  } catch (err) {
    await lease.release();
    throw err;
  }
  const ofThisLab = { [LABELS.lab]: lab.id };
  const prefix = `ecm-lab-${lab.id}`;
  return {
    backend: 'containers',
    stepCa: () => new StepCaContainer(images['step-ca'].reference, images['step-ca'].binary).withNamePrefix(prefix).withLabels(ofThisLab),
    mosquitto: () =>
      new MosquittoContainer(images.mosquitto.reference, images.mosquitto.binary, images.mosquitto.dynamicSecurityPlugin ?? '/usr/lib/mosquitto_dynamic_security.so').withNamePrefix(prefix).withLabels(ofThisLab),
    // The service follows the authorities' logs (its issuance feed): the log directory is shared.
    serviceHost: () => new ProvisioningServiceContainer(images['provisioning-service'].reference, images['provisioning-service'].binary).withNamePrefix(prefix).withLabels(ofThisLab).withSharedDirectories(lab.logsDir),
    close: () => lease.release(),
  };
}
