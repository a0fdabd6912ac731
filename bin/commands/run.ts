// ecm-lab run: the Gherkin scenarios against a local lab; cucumber writes its reports under
// reports/, then Allure 3 renders reports/allure-report/index.html (one file, allurerc.mjs) from
// the results, and evidence/ writes the traceability matrix and the run summary beside them.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type LabConfig } from '../../environments/config.ts';
import { publishEvidence } from '../../evidence/publish.ts';
import { repoRoot } from '../../environments/tools/tools.ts';

const DEFAULT_FEATURES = 'features/';

/** True when the arguments name features to run (files, directories, file:line). */
function namesFeatures(args: string[]): boolean {
  return args.some((arg) => !arg.startsWith('-') && (/\.feature(:\d+)*$/.test(arg) || existsSync(path.resolve(repoRoot, arg))));
}

async function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: 'inherit', env });
  // Forward Ctrl-C / SIGTERM so cucumber's hooks stop the lab before we exit.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    return code ?? (signal === 'SIGINT' ? 130 : 143);
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

/**
 * The traceability matrix and the run summary of the last run. A failure here is reported, not
 * thrown: the scenarios' verdict is the run's exit code, and the other reports are written.
 */
export async function writeEvidence(config: LabConfig, reports: string): Promise<boolean> {
  try {
    const out = await publishEvidence({
      repoRoot,
      reportsDir: reports,
      target: 'local',
      toolsBinDir: config.toolsBinDir,
      secrets: config.provisioning.adminToken ? [config.provisioning.adminToken] : [],
    });
    for (const p of out.tagProblems) console.error(`ecm-lab: ${p.uri}:${p.line}: ${p.message}`);
    return true;
  } catch (err) {
    console.error(`ecm-lab: the traceability matrix and run summary could not be written: ${(err as Error).message}`);
    return false;
  }
}

export async function runCommand(global: { config?: string }, cucumberArgs: string[]): Promise<void> {
  // Validate the configuration here, so a bad file fails once with a clear message.
  const config = loadConfig({ file: global.config });
  const reports = path.join(repoRoot, 'reports');
  const allureResults = path.join(reports, 'allure-results');
  rmSync(allureResults, { recursive: true, force: true });
  mkdirSync(path.join(reports, 'cucumber'), { recursive: true });
  const env = { ...process.env, ...(global.config ? { ECM_LAB_CONFIG: path.resolve(global.config) } : {}) };
  const cucumber = path.join(repoRoot, 'node_modules/@cucumber/cucumber/bin/cucumber.js');
  const features = namesFeatures(cucumberArgs) ? [] : [DEFAULT_FEATURES];
  const code = await runNode(['--import', 'tsx', cucumber, ...features, ...cucumberArgs], env);

  // The report is written for failed runs too: that is when it is read most.
  const allure = path.join(repoRoot, 'node_modules/allure/cli.js');
  const allureReport = path.join(reports, 'allure-report');
  if (existsSync(allureResults)) {
    rmSync(allureReport, { recursive: true, force: true });
    const allureCode = await runNode([allure, 'generate', allureResults, '--output', allureReport], env);
    if (allureCode !== 0) console.error(`ecm-lab: the Allure report could not be generated (exit ${allureCode})`);
  }
  // Evidence that cannot be written fails the run loudly (e.g. Chromium missing for the PDF).
  const evidence = await writeEvidence(config, reports);
  console.log(
    `\nreports (each opens from disk): ${path.join(reports, 'summary/index.html')} (and summary.pdf), ${path.join(reports, 'traceability/index.html')}, ${path.join(reports, 'allure-report/index.html')}, ${path.join(reports, 'cucumber/report.html')}; logs under ${path.join(reports, 'logs')}`,
  );
  process.exitCode = code !== 0 ? code : evidence ? 0 : 1;
}

/** ecm-lab report evidence: the matrix and the summary again, from the last run's messages. */
export async function reportEvidenceCommand(global: { config?: string }): Promise<void> {
  const config = loadConfig({ file: global.config });
  const reports = path.join(repoRoot, 'reports');
  const ok = await writeEvidence(config, reports);
  if (ok) console.log(`${path.join(reports, 'traceability/index.html')}, ${path.join(reports, 'summary/index.html')} (and summary.pdf)`);
  process.exitCode = ok ? 0 : 1;
}
