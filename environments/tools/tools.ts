// Locates the external programs the lab drives and reports their versions against the pins.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface VersionPins {
  go: Record<string, { module: string; version: string }>;
  debian: Record<string, string>;
  /** Debian packages whose pin may be superseded by Debian's newest security build (bootstrap installs that one). */
  debianRolling?: string[];
  minimumGo: string;
}

export const versionPins: VersionPins = JSON.parse(
  readFileSync(path.join(repoRoot, 'environments/tools/versions.json'), 'utf8'),
);

export type ToolName = 'step-ca' | 'step' | 'mosquitto' | 'mosquitto_pub' | 'mosquitto_sub' | 'chromium' | 'ecm-connect' | 'ecm-device';

/**
 * The hash of the native clients' Go module (ecm-connect, ecm-device), as
 * scripts/build-native-connect.sh computes it (go.mod and the non-test .go files of the module by
 * relative path in byte order, SHA-256, 16 hex digits): their "pin", so a binary built from other
 * sources is reported stale.
 */
export function nativeConnectSourceHash(dir = path.join(repoRoot, 'load/native-connect')): string {
  const files = (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => f === 'go.mod' || (f.endsWith('.go') && !f.endsWith('_test.go')))
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(path.join(dir, file)));
  return hash.digest('hex').slice(0, 16);
}

const FIX_BOOTSTRAP = 'bash scripts/bootstrap.sh';

interface ToolSpec {
  /** Candidate locations, first match wins. */
  candidates(binDir: string): string[];
  versionArgs: string[];
  parseVersion(output: string): string | undefined;
  /** Where the version is printed; 'stdout' when stderr may carry unrelated noise. Default both. */
  versionFrom?: 'stdout' | 'both';
  pinned: string;
  /** Any installed version is accepted: the same rule as scripts/bootstrap.sh's debianRolling. */
  rolling?: boolean;
  /** The command that installs it, when not the whole bootstrap. */
  fix?: string;
}

function onPath(name: string): string[] {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  // Debian installs the broker in /usr/sbin, which is not on every user's PATH.
  return [...dirs, '/usr/sbin', '/usr/bin'].map((dir) => path.join(dir, name));
}

const firstMatch = (re: RegExp) => (output: string) => re.exec(output)?.[1];

/** A binary of the lab's Go module: pinned to the hash of the sources it must be built from. */
function nativeTool(name: 'ecm-connect' | 'ecm-device'): ToolSpec {
  return {
    candidates: (binDir) => [path.join(binDir, name)],
    versionArgs: ['-version'],
    parseVersion: firstMatch(new RegExp(`^${name} (\\S+)`, 'm')),
    get pinned() {
      return nativeConnectSourceHash();
    },
    fix: 'bash scripts/build-native-connect.sh (scripts/bootstrap.sh runs it)',
  };
}

const specs: Record<ToolName, ToolSpec> = {
  'step-ca': {
    candidates: (binDir) => [path.join(binDir, 'step-ca')],
    versionArgs: ['version'],
    parseVersion: firstMatch(/Smallstep CA\/(\S+)/),
    pinned: versionPins.go['step-ca']!.version.replace(/^v/, ''),
  },
  step: {
    candidates: (binDir) => [path.join(binDir, 'step')],
    versionArgs: ['version'],
    parseVersion: firstMatch(/Smallstep CLI\/(\S+)/),
    pinned: versionPins.go.step!.version.replace(/^v/, ''),
  },
  mosquitto: {
    candidates: () => onPath('mosquitto'),
    versionArgs: ['-h'],
    parseVersion: firstMatch(/mosquitto version (\S+)/),
    pinned: versionPins.debian.mosquitto!,
  },
  mosquitto_pub: {
    candidates: () => onPath('mosquitto_pub'),
    versionArgs: ['--help'],
    parseVersion: firstMatch(/mosquitto_pub version (\S+)/),
    pinned: versionPins.debian['mosquitto-clients']!,
  },
  mosquitto_sub: {
    candidates: () => onPath('mosquitto_sub'),
    versionArgs: ['--help'],
    parseVersion: firstMatch(/mosquitto_sub version (\S+)/),
    pinned: versionPins.debian['mosquitto-clients']!,
  },
  // Debian's chromium package, driven by playwright-core in the admin page test. /usr/bin/chromium
  // is the package's shell wrapper (the real binary is /usr/lib/chromium/chromium); the wrapper
  // may print a harmless shell warning on stderr, so the version is read from stdout only.
  // ECM_LAB_CHROMIUM names another browser binary (another distribution's path).
  chromium: {
    candidates: () => [process.env.ECM_LAB_CHROMIUM || '/usr/bin/chromium'],
    versionArgs: ['--version'],
    parseVersion: firstMatch(/^Chromium (\d+(?:\.\d+)+)/m),
    versionFrom: 'stdout',
    pinned: versionPins.debian.chromium!,
    rolling: versionPins.debianRolling?.includes('chromium'),
  },
  // Built from this repository (load/native-connect): only `load --handshake-client native` and
  // `load --device-client native` use them.
  'ecm-connect': nativeTool('ecm-connect'),
  'ecm-device': nativeTool('ecm-device'),
};

export const toolNames = Object.keys(specs) as ToolName[];

export class MissingToolError extends Error {
  override name = 'MissingToolError';
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function resolveBinDir(binDir: string): string {
  return path.isAbsolute(binDir) ? binDir : path.join(repoRoot, binDir);
}

/** The path of a tool, or a MissingToolError that says how to install it. */
export function locateTool(name: ToolName, binDir = '.tools/bin'): string {
  const candidates = specs[name].candidates(resolveBinDir(binDir));
  const found = candidates.find(isExecutable);
  if (!found) {
    throw new MissingToolError(`${name} not found (looked in ${candidates.slice(0, 3).join(', ')}...); install it with: ${specs[name].fix ?? FIX_BOOTSTRAP}`);
  }
  return found;
}

export interface ToolReport {
  name: ToolName;
  path?: string;
  version?: string;
  pinned: string;
  ok: boolean;
  problem?: string;
  fix?: string;
}

export async function inspectTool(name: ToolName, binDir = '.tools/bin'): Promise<ToolReport> {
  const spec = specs[name];
  const fix = spec.fix ?? FIX_BOOTSTRAP;
  let file: string;
  try {
    file = locateTool(name, binDir);
  } catch (err) {
    return { name, pinned: spec.pinned, ok: false, problem: (err as Error).message, fix };
  }
  // mosquitto's -h and the clients' --help exit non-zero; the version is in the output anyway.
  const stdoutOnly = spec.versionFrom === 'stdout';
  const output = await run(file, spec.versionArgs, { timeout: 10_000 }).then(
    (r) => (stdoutOnly ? r.stdout : r.stdout + r.stderr),
    (err: { stdout?: string; stderr?: string }) => (stdoutOnly ? (err.stdout ?? '') : `${err.stdout ?? ''}${err.stderr ?? ''}`),
  );
  const version = spec.parseVersion(output);
  if (!version) return { name, path: file, pinned: spec.pinned, ok: false, problem: 'cannot read its version', fix };
  // Debian pins carry a packaging suffix (2.0.11-1.2+deb12u2) the binary does not print.
  const matches = spec.pinned === version || spec.pinned.startsWith(`${version}-`) || spec.rolling === true;
  const problem = matches ? undefined : `version ${version} differs from the pinned ${spec.pinned}`;
  return { name, path: file, version, pinned: spec.pinned, ok: !problem, problem, fix: problem ? fix : undefined };
}

/**
 * Mosquitto's dynamic security plugin, shipped with Debian's mosquitto package: the lab uses it to
 * disconnect one client whose certificate was revoked (deleteClient kicks its connections).
 */
export function locateDynamicSecurityPlugin(): string {
  const candidates = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib'].map((dir) => path.join(dir, 'mosquitto_dynamic_security.so'));
  const found = candidates.find((file) => {
    try {
      accessSync(file, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new MissingToolError(`mosquitto_dynamic_security.so not found (looked in ${candidates.join(', ')}); it comes with Debian's mosquitto package: ${FIX_BOOTSTRAP}`);
  return found;
}
