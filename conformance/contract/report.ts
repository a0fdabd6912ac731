// The replay's report: one line per (path, method, status) for a terminal, and contract.json for
// machines. Neither carries a secret: the admin token and any private key are scrubbed from the
// reasons, which quote what the service answered.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ContractDocument } from './document.ts';
import type { Replay, ReplayResult } from './replay.ts';

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;
const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

export function scrub(text: string, secrets: string[]): string {
  let out = text.replace(PRIVATE_KEY, '[private key]').replace(JWT, '[token]');
  for (const secret of secrets) if (secret) out = out.split(secret).join('[admin token]');
  return out;
}

const LABEL = { passed: 'PASS', failed: 'FAIL', 'not-run': 'SKIP' } as const;

export function formatResult(result: ReplayResult, index: number, total: number): string {
  const answered = result.answered.length > 0 ? ` [answered ${result.answered.join(', ')}]` : '';
  const why = result.outcome === 'not-run' ? `not run: ${result.reason}` : result.reason;
  return `${`[${index + 1}/${total}]`.padStart(9)} ${LABEL[result.outcome]} ${result.key}${answered} — ${why}`;
}

export function summarize(results: ReplayResult[]) {
  const count = (o: ReplayResult['outcome']) => results.filter((r) => r.outcome === o).length;
  return { total: results.length, passed: count('passed'), failed: count('failed'), notRun: count('not-run') };
}

export interface ContractReportInput {
  targetName: string;
  document: ContractDocument;
  replay: Replay;
  startedAt: Date;
  finishedAt: Date;
  secrets: string[];
}

/** Writes <outDir>/<target name>/contract.json and returns its path. */
export function writeContractReport(outDir: string, input: ContractReportInput): string {
  const dir = path.join(outDir, input.targetName);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'contract.json');
  const info = input.document.raw.info as { version?: string } | undefined;
  const report = {
    target: input.targetName,
    document: { file: path.relative(process.cwd(), input.document.file), version: info?.version ?? null },
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    summary: summarize(input.replay.results),
    results: input.replay.results.map((r) => ({ ...r, reason: scrub(r.reason, input.secrets) })),
    restoreProblems: input.replay.restoreProblems.map((p) => scrub(p, input.secrets)),
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
