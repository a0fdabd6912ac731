// ecm-lab images build: the containers backend's local images (environments/containers/images.ts),
// for air-gapped sites and machines without registry access; a rerun with unchanged inputs
// finds every image present and takes seconds.
import { loadConfig } from '../../config/config.ts';
import { acquireEngine } from '../../environments/containers/engine.ts';
import { buildImages } from '../../environments/containers/images.ts';

export async function imagesBuildCommand(global: { config?: string }, opts: { json?: boolean }): Promise<void> {
  const config = loadConfig({ file: global.config });
  const lease = await acquireEngine();
  try {
    const started = performance.now();
    const images = await buildImages(lease.engine, { toolsBinDir: config.toolsBinDir });
    if (opts.json) {
      console.log(JSON.stringify({ engine: { kind: lease.engine.kind, version: lease.engine.version, dockerHost: lease.engine.dockerHost }, images }, null, 2));
    } else {
      for (const image of images) console.log(`${image.built ? 'built  ' : 'present'}  ${image.image}${image.built ? `  (${(image.ms / 1000).toFixed(1)} s)` : ''}`);
      console.log(`${lease.engine.kind} ${lease.engine.version}: ${images.filter((i) => i.built).length} built, ${images.filter((i) => !i.built).length} already present, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await lease.release();
  }
}
