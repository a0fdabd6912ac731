// What a run ran on, for the run summary: the machine, Node, the tools the lab found (versions
// as the tools report them, through the same inspection `ecm-lab doctor` uses) and the versions
// of the libraries that ran the scenarios and wrote the reports.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspectTool, repoRoot, toolNames } from '../environments/tools/tools.ts';

export interface RunEnvironment {
  machine: { cpus: number; cpuModel: string; memoryGiB: number; os: string };
  node: string;
  tools: Array<{ name: string; version?: string; pinned: string; ok: boolean; problem?: string }>;
  libraries: Record<string, string>;
}

const LIBRARIES = ['@cucumber/cucumber', 'allure', 'allure-cucumberjs', 'mqtt', 'acme-client', 'playwright-core'];

function libraryVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export async function runEnvironment(toolsBinDir?: string): Promise<RunEnvironment> {
  const cpus = os.cpus();
  const tools = await Promise.all(toolNames.map((name) => inspectTool(name, toolsBinDir)));
  return {
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.platform()} ${os.release()}` },
    node: process.version,
    tools: tools.map((t) => ({ name: t.name, version: t.version, pinned: t.pinned, ok: t.ok, ...(t.problem ? { problem: t.problem } : {}) })),
    libraries: Object.fromEntries(LIBRARIES.map((l) => [l, libraryVersion(l)])),
  };
}
