// The handshake baseline measured with the native connect generator (load/native-connect, the
// `ecm-connect` binary: Go's crypto/tls) instead of mqtt.js on Node's TLS: the same distinct
// certificates, the same broker, CONNECT/CONNACK and DISCONNECT, `concurrency` at a time.
// Its CPU is read from /proc for its pid over the same window as the broker's (the CpuMeter's),
// between its "ready" (every certificate loaded) and its result; its own getrusage figure is kept
// beside it as a cross-check.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { locateTool, MissingToolError, nativeConnectSourceHash } from '../../environments/tools/tools.ts';
import { processCpu } from '../../environments/local/process-cpu.ts';

/** One connection of the plan: its MQTT client id and the files of its certificate chain and key. */
export interface NativeIdentity {
  clientId: string;
  certFile: string;
  keyFile: string;
  /** A loopback source address of its own (the broker's log then names the connection). */
  localAddress?: string;
}

/** What ecm-connect reads (load/native-connect/plan.go). */
export interface NativeConnectPlan {
  host: string;
  port: number;
  serverName: string;
  caFile: string;
  concurrency: number;
  connectTimeoutMs: number;
  overallTimeoutMs: number;
  keepAliveSeconds: number;
  connections: NativeIdentity[];
}

export interface NativeFailure {
  clientId: string;
  stage: 'dial' | 'tls' | 'connack' | 'timeout' | 'not-started';
  reason: string;
  connackCode?: number;
}

interface CpuMs {
  user: number;
  system: number;
  total: number;
}

/** What ecm-connect prints once every connection is done (load/native-connect/main.go). */
export interface NativeConnectResult {
  connections: number;
  ok: number;
  failed: number;
  failures: NativeFailure[];
  connackLatencyMs: number[];
  elapsedMs: number;
  /** getrusage of the timed part, by the process itself. */
  cpuMs: CpuMs;
  /** Loading every certificate and key into its TLS configuration, before the timed part. */
  contextCpuMs: CpuMs;
  /** Connections by negotiated TLS version, cipher suite and group. */
  negotiated: Record<string, number>;
}

export interface NativeRun {
  result: NativeConnectResult;
  /** The process's CPU from /proc between "ready" and its result. */
  processCpuMs: number;
}

/** The plan for a broker: every connection of it bounded (10 s each, the whole a minute per 100 connections, at most 1 h). */
export function nativeConnectPlan(broker: { host: string; port: number; serverName?: string }, caFile: string, connections: NativeIdentity[], concurrency: number): NativeConnectPlan {
  return {
    host: broker.host,
    port: broker.port,
    serverName: broker.serverName ?? broker.host,
    caFile,
    concurrency,
    connectTimeoutMs: 10_000,
    overallTimeoutMs: Math.min(3_600_000, 60_000 + Math.ceil(connections.length / 100) * 60_000),
    keepAliveSeconds: 30,
    connections,
  };
}

/** Writes each certificate chain and its key (0600) under `dir` (0700) for ecm-connect. */
export function writeIdentities(dir: string, identities: Array<{ clientId: string; chainPem: string; keyPem: string; localAddress?: string }>): NativeIdentity[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return identities.map(({ clientId, chainPem, keyPem, localAddress }, i) => {
    const certFile = path.join(dir, `${i}.crt`);
    const keyFile = path.join(dir, `${i}.key`);
    writeFileSync(certFile, chainPem);
    writeFileSync(keyFile, keyPem, { mode: 0o600 });
    return { clientId, certFile, keyFile, ...(localAddress ? { localAddress } : {}) };
  });
}

/** The ecm-connect binary, refused when it was built from other sources than these (it would measure other code). */
function currentBinary(binDir: string | undefined): string {
  const binary = locateTool('ecm-connect', binDir);
  const built = /^ecm-connect (\S+)/.exec(execFileSync(binary, ['-version'], { encoding: 'utf8', timeout: 10_000 }))?.[1];
  const sources = nativeConnectSourceHash();
  if (built !== sources) throw new MissingToolError(`${binary} was built from other sources (${built ?? 'no version'}; load/native-connect is ${sources}); rebuild it with: bash scripts/build-native-connect.sh`);
  return binary;
}

/**
 * Runs ecm-connect on `plan` (written to `dir`): `onStart` when every certificate is loaded, just
 * before "go"; `onEnd` as soon as the result is in, while the process still waits for its stdin
 * to close (so its /proc entry can be read). Rejects with ecm-connect's own message when it
 * refuses the plan or dies.
 */
export async function runNativeConnect(plan: NativeConnectPlan, dir: string, options: { binDir?: string; onStart?(): void; onEnd?(): void } = {}): Promise<NativeRun> {
  const binary = currentBinary(options.binDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const planFile = path.join(dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan), { mode: 0o600 });
  const child = spawn(binary, ['-plan', planFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  // A process that died is reported by its exit code and stderr, not by the pipe's EPIPE.
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), plan.overallTimeoutMs + 30_000);
  try {
    const lines = createInterface({ input: child.stdout });
    let atStart: number | undefined;
    let run: NativeRun | undefined;
    for await (const line of lines) {
      const message = JSON.parse(line) as { ready?: boolean } & Partial<NativeConnectResult>;
      if (message.ready) {
        options.onStart?.();
        atStart = processCpu(child.pid!)?.cpuMs;
        child.stdin.write('go\n');
        continue;
      }
      const atEnd = processCpu(child.pid!)?.cpuMs;
      options.onEnd?.();
      if (atStart === undefined || atEnd === undefined) throw new Error(`ecm-connect (pid ${child.pid}): its CPU could not be read from /proc`);
      run = { result: message as NativeConnectResult, processCpuMs: atEnd - atStart };
      child.stdin.end();
      break;
    }
    const code = await exited;
    if (!run) throw new Error(`ecm-connect exited with code ${code} before its result: ${stderr.trim() || '(nothing on stderr)'}`);
    return run;
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Removes the identities' directory: their keys live no longer than the baseline. */
export function removeIdentities(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
