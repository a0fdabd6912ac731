// The images of the containers backend. step-ca and Mosquitto: the official images
// (versions.json "images", pinned by version and, where known, digest), as a user with registry
// access expects; when one cannot be pulled, the locally built equivalent, and the lab says so.
// The provisioning service and the simulators (the `ecm-lab` image) are the lab's own code:
// always built locally.
//
// Local images are built from Debian's packages and the binaries the bootstrap already made (the
// air-gapped site's path, and this CI's): one Debian bookworm root filesystem made by mmdebstrap
// and imported, then small COPY-only builds on top of it (no RUN step, so a build needs no
// container runtime beyond the engine's image store). Each tag carries a hash of everything that
// went into it, so an unchanged image is never rebuilt and a changed input always is.
// Longer than most modules because the recipes, their content hashes (an unchanged image is
// kept) and the pull-or-build choice belong together: one place decides what an image holds.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { locateTool, repoRoot, versionPins } from '../tools/tools.ts';
import { imageExists, pullImage } from './image-store.ts';
import type { Engine } from './engine.ts';

const run = promisify(execFile);

export { imageExists } from './image-store.ts';

/** The non-root user every local image runs as; the lab's containers run as it too (or as the lab's own uid). */
export const IMAGE_USER = { name: 'ecm', uid: 10001, gid: 10001 } as const;
/** Where volumes for keys and certificates are mounted in the images: 0700, owned by IMAGE_USER. */
export const IMAGE_DATA_DIR = '/var/lib/ecm-lab';
/** Where the lab's code lives in the ecm-lab and provisioning-service images. */
export const IMAGE_APP_DIR = '/opt/ecm-lab';

export type ImageName = 'step-ca' | 'mosquitto' | 'ecm-lab' | 'provisioning-service';
export const imageNames: ImageName[] = ['step-ca', 'mosquitto', 'ecm-lab', 'provisioning-service'];

interface OfficialImage {
  official: string;
  version: string;
  /** sha256 digest of the pinned tag; null where none could be verified (the tag alone is then pulled). */
  digest: string | null;
  binary: string;
  dynamicSecurityPlugin?: string;
}

const officialImages = (versionPins as unknown as { images: Record<'step-ca' | 'mosquitto', OfficialImage> }).images;

export function officialReference(name: 'step-ca' | 'mosquitto'): string {
  const image = officialImages[name];
  return image.digest ? `${image.official}:${image.version}@${image.digest}` : `${image.official}:${image.version}`;
}

const sha256 = (...parts: Array<string | Buffer>) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
};

const fileHashes = new Map<string, { key: string; hash: string }>();
/** A file's hash, remembered per path, size and mtime: the binaries are large and change rarely. */
function hashFile(file: string): string {
  const stat = statSync(file);
  const key = `${stat.size}:${stat.mtimeMs}`;
  const known = fileHashes.get(file);
  if (known?.key === key) return known.hash;
  const hash = sha256(readFileSync(file));
  fileHashes.set(file, { key, hash });
  return hash;
}

/** What the base image is made of; its hash names the base tag. */
function baseRecipe(): string[] {
  const pin = versionPins.debian.mosquitto!;
  // The mount points of compose.yaml's named volumes (environments/compose/compose-stack.ts).
  const data = ['pki', 'step-ca', 'bootstrap-ca', 'mosquitto', 'provisioning', 'public', 'acme-webroot', 'app', 'devices'].map((d) => `${IMAGE_DATA_DIR}/${d}`).join(' ');
  return [
    '--variant=apt',
    // mosquitto pinned as the bootstrap pins it; its package brings the dynamic security plugin.
    `--include=mosquitto=${pin},ca-certificates`,
    `--customize-hook=chroot "$1" groupadd --gid ${IMAGE_USER.gid} ${IMAGE_USER.name}`,
    `--customize-hook=chroot "$1" useradd --uid ${IMAGE_USER.uid} --gid ${IMAGE_USER.gid} --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${IMAGE_USER.name}`,
    // Volumes mounted here start with these modes: keys stay 0700 to the image's user.
    `--customize-hook=chroot "$1" install -d -m 0700 -o ${IMAGE_USER.uid} -g ${IMAGE_USER.gid} ${data}`,
    'bookworm',
  ];
}

interface Recipe {
  /** The full local reference, a hash of the recipe and its inputs in the tag. */
  tag(): Promise<string>;
  build(engine: Engine, log: (line: string) => void): Promise<void>;
}

const short = (hash: string) => hash.slice(0, 12);
const local = (name: string, tag: string) => `localhost/ecm-lab/${name}:${tag}`;

export function baseImage(): string {
  return local('base', short(sha256('base/1', ...baseRecipe())));
}

/** Not in the ecm-lab image: generated files, the lab's own tests and documents (a change there rebuilds nothing). */
const EXCLUDED = ['node_modules/', '.tools/', 'reports/', 'test/', 'docs/', '.ci/'];

/** The files of the repository the ecm-lab image carries (tracked and untracked, not ignored), relative to the root. */
async function appFiles(): Promise<string[]> {
  try {
    const { stdout } = await run('git', ['-C', repoRoot, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { maxBuffer: 64 * 1024 * 1024 });
    return stdout
      .split('\0')
      .filter(Boolean)
      .filter((f) => !EXCLUDED.some((prefix) => f.startsWith(prefix)) && !f.endsWith('.md'))
      .filter((f) => {
        try {
          return statSync(path.join(repoRoot, f)).isFile();
        } catch {
          return false; // deleted in the work tree
        }
      })
      .sort();
  } catch {
    // Not a git checkout (an unpacked release): every file but the generated ones.
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
        const rel = path.join(dir, entry.name);
        if (rel === '.git' || EXCLUDED.includes(`${rel}/`) || rel.endsWith('.md')) continue;
        if (entry.isDirectory()) walk(rel);
        else if (entry.isFile()) out.push(rel);
      }
    };
    walk('');
    return out.sort();
  }
}

let appHashMemo: Promise<string> | undefined;
async function appHash(): Promise<string> {
  return (appHashMemo ??= (async () => {
    const files = await appFiles();
    return sha256(...files.flatMap((f) => [f, hashFile(path.join(repoRoot, f))]), hashFile(path.join(repoRoot, 'package-lock.json')), hashFile(process.execPath));
  })());
}

function containerfile(lines: string[]): string {
  return `# Generated by ecm-lab images build (environments/containers/images.ts).\n${lines.join('\n')}\n`;
}

const stepCaContainerfile = () =>
  containerfile([
    `FROM ${baseImage()}`,
    'COPY --chmod=0755 step-ca step /usr/local/bin/',
    `USER ${IMAGE_USER.uid}:${IMAGE_USER.gid}`,
    `WORKDIR ${IMAGE_DATA_DIR}/step-ca`,
    'ENTRYPOINT ["/usr/local/bin/step-ca"]',
  ]);
const mosquittoContainerfile = () =>
  containerfile([`FROM ${baseImage()}`, `USER ${IMAGE_USER.uid}:${IMAGE_USER.gid}`, `WORKDIR ${IMAGE_DATA_DIR}/mosquitto`, 'ENTRYPOINT ["/usr/sbin/mosquitto"]']);
// Node 20 is the host's own binary (Debian bookworm's nodejs is 18): the lab runs on it, it links
// only glibc and libstdc++, which the bookworm base has, and native modules (better-sqlite3)
// built by the host's npm match it exactly.
const ecmLabContainerfile = () =>
  containerfile([
    `FROM ${baseImage()}`,
    'COPY --chmod=0755 node /usr/local/bin/node',
    // node_modules first: its layer is reused while only the lab's sources change.
    `COPY node_modules ${IMAGE_APP_DIR}/node_modules`,
    `COPY app ${IMAGE_APP_DIR}`,
    `USER ${IMAGE_USER.uid}:${IMAGE_USER.gid}`,
    `WORKDIR ${IMAGE_APP_DIR}`,
    `ENTRYPOINT ["/usr/local/bin/node", "${IMAGE_APP_DIR}/bin/ecm-lab.js"]`,
  ]);
const serviceContainerfile = (ecmLab: string) =>
  containerfile([`FROM ${ecmLab}`, `ENTRYPOINT ["/usr/local/bin/node", "${IMAGE_APP_DIR}/services/provisioning/process-entry.js"]`]);

/** Hard links where the file system allows, copies elsewhere: the context is read once by the build. */
function stage(source: string, target: string): void {
  mkdirSync(path.dirname(target), { recursive: true });
  try {
    linkSync(source, target);
  } catch {
    cpSync(source, target, { dereference: true });
  }
}

function stageTree(source: string, target: string): void {
  const real = statSync(source).isDirectory() ? source : path.dirname(source);
  for (const entry of readdirSync(real, { withFileTypes: true })) {
    const from = path.join(real, entry.name);
    const to = path.join(target, entry.name);
    if (entry.isDirectory()) stageTree(from, to);
    else if (entry.isSymbolicLink()) cpSync(from, to, { verbatimSymlinks: true });
    else if (entry.isFile()) stage(from, to);
  }
}

async function buildFromContext(engine: Engine, tag: string, text: string, fill: (context: string) => void | Promise<void>, log: (line: string) => void): Promise<void> {
  const context = mkdtempSync(path.join(os.tmpdir(), 'ecm-lab-image-'));
  try {
    writeFileSync(path.join(context, 'Containerfile'), text);
    await fill(context);
    log(`building ${tag}`);
    await engineCli(engine, ['build', '--network', 'host', '--tag', tag, '--file', path.join(context, 'Containerfile'), context]);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** Runs the engine's CLI (podman or docker) with the lab's containers.conf. */
export async function engineCli(engine: Engine, args: string[]): Promise<string> {
  const env = { ...process.env, ...(engine.containersConf ? { CONTAINERS_CONF: engine.containersConf } : {}), DOCKER_HOST: engine.dockerHost };
  try {
    const { stdout } = await run(engine.cli, args, { env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${engine.cli} ${args.slice(0, 2).join(' ')} failed: ${(e.stderr || e.message).trim().split('\n').slice(-5).join(' | ')}`);
  }
}

const recipes = (toolsBinDir: string): Record<ImageName | 'base', Recipe> => {
  const stepCa = () => locateTool('step-ca', toolsBinDir);
  const step = () => locateTool('step', toolsBinDir);
  const ecmLabTag = async () => local('ecm-lab', short(sha256(baseImage(), ecmLabContainerfile(), await appHash())));
  const serviceTag = async () => local('provisioning-service', short(sha256(serviceContainerfile(await ecmLabTag()))));
  const stepCaTag = async () => local('step-ca', `${officialImages['step-ca'].version}-${short(sha256(stepCaContainerfile(), hashFile(stepCa()), hashFile(step())))}`);
  const mosquittoTag = async () => local('mosquitto', `${officialImages.mosquitto.version}-${short(sha256(mosquittoContainerfile()))}`);
  return {
    base: {
      tag: async () => baseImage(),
      async build(engine, log) {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-lab-rootfs-'));
        try {
          const tar = path.join(dir, 'rootfs.tar');
          log(`building ${baseImage()}: mmdebstrap ${baseRecipe().join(' ')} (Debian bookworm with mosquitto; about 40 s)`);
          try {
            await run('mmdebstrap', [...baseRecipe(), tar], { maxBuffer: 64 * 1024 * 1024 });
          } catch (err) {
            const e = err as NodeJS.ErrnoException & { stderr?: string };
            if (e.code === 'ENOENT') throw new Error('mmdebstrap not found: install it (bash scripts/bootstrap.sh installs it from Debian)');
            throw new Error(`mmdebstrap failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-5).join(' | ')}`);
          }
          await engineCli(engine, ['import', '--change', `USER ${IMAGE_USER.uid}:${IMAGE_USER.gid}`, '--change', 'WORKDIR /', tar, baseImage()]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    },
    'step-ca': {
      tag: stepCaTag,
      async build(engine, log) {
        return buildFromContext(engine, await stepCaTag(), stepCaContainerfile(), (context) => {
          stage(stepCa(), path.join(context, 'step-ca'));
          stage(step(), path.join(context, 'step'));
        }, log);
      },
    },
    mosquitto: {
      tag: mosquittoTag,
      async build(engine, log) {
        return buildFromContext(engine, await mosquittoTag(), mosquittoContainerfile(), () => undefined, log);
      },
    },
    'ecm-lab': {
      tag: ecmLabTag,
      async build(engine, log) {
        const tag = await ecmLabTag();
        await buildFromContext(engine, tag, ecmLabContainerfile(), async (context) => {
          stage(process.execPath, path.join(context, 'node'));
          stageTree(path.join(repoRoot, 'node_modules'), path.join(context, 'node_modules'));
          for (const file of await appFiles()) stage(path.join(repoRoot, file), path.join(context, 'app', file));
        }, log);
      },
    },
    'provisioning-service': {
      tag: serviceTag,
      async build(engine, log) {
        await buildFromContext(engine, await serviceTag(), serviceContainerfile(await ecmLabTag()), () => undefined, log);
      },
    },
  };
};

/** The tag of a locally built image, as `ecm-lab images build` makes it from the current inputs. */
export function localImage(name: ImageName, toolsBinDir: string): Promise<string> {
  return recipes(toolsBinDir)[name].tag();
}

/**
 * Builds every local image whose tag is missing (the base first: the others are FROM it); an
 * image already present is reused, so a second run takes seconds. Returns each tag and whether it
 * was built now.
 */
export async function buildImages(engine: Engine, options: { toolsBinDir: string; only?: ImageName[]; log?: (line: string) => void }): Promise<Array<{ name: ImageName | 'base'; image: string; built: boolean; ms: number }>> {
  const log = options.log ?? ((line: string) => console.error(`ecm-lab images: ${line}`));
  const all = recipes(options.toolsBinDir);
  const wanted = options.only ?? imageNames;
  const order: Array<ImageName | 'base'> = ['base', ...imageNames.filter((n) => wanted.includes(n) || (n === 'ecm-lab' && wanted.includes('provisioning-service')))];
  const results = [];
  for (const name of order) {
    const image = await all[name].tag();
    const started = performance.now();
    const present = await imageExists(image);
    if (!present) await all[name].build(engine, log);
    // compose.yaml and the Kubernetes manifests name the newest build by :latest.
    await engineCli(engine, ['tag', image, image.replace(/:[^:/]+$/, ':latest')]);
    results.push({ name, image, built: !present, ms: Math.round(performance.now() - started) });
  }
  return results;
}

export interface ResolvedImage {
  reference: string;
  origin: 'official' | 'local';
  /** The program's path in the image. */
  binary: string;
  dynamicSecurityPlugin?: string;
}

/**
 * The image a component runs: the official one when present or pullable (unless the config asks
 * for local images), else the local one, built now when missing. Every fallback is said once.
 */
export async function resolveImage(
  engine: Engine,
  name: ImageName,
  options: { prefer: 'official' | 'local'; toolsBinDir: string; pullTimeoutMs: number; say: (line: string) => void },
): Promise<ResolvedImage> {
  if ((name === 'step-ca' || name === 'mosquitto') && options.prefer === 'official') {
    const reference = officialReference(name);
    const official = officialImages[name];
    try {
      if (!(await imageExists(reference))) await pullImage(reference, options.pullTimeoutMs);
      return { reference, origin: 'official', binary: official.binary, dynamicSecurityPlugin: official.dynamicSecurityPlugin };
    } catch (err) {
      options.say(`the official image ${reference} cannot be pulled (${(err as Error).message}); using the locally built ${await localImage(name, options.toolsBinDir)} instead`);
    }
  }
  const reference = await localImage(name, options.toolsBinDir);
  if (!(await imageExists(reference))) {
    options.say(`${reference} is not built yet; building it now (ecm-lab images build does this ahead of time)`);
    await buildImages(engine, { toolsBinDir: options.toolsBinDir, only: [name], log: options.say });
  }
  const binary = name === 'step-ca' ? '/usr/local/bin/step-ca' : name === 'mosquitto' ? '/usr/sbin/mosquitto' : '/usr/local/bin/node';
  // Debian's multiarch directory of the image, which is built for this host's architecture.
  const multiarch = os.arch() === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  return { reference, origin: 'local', binary, dynamicSecurityPlugin: name === 'mosquitto' ? `/usr/lib/${multiarch}/mosquitto_dynamic_security.so` : undefined };
}
