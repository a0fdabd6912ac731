// ecm-lab run: the Gherkin scenarios against a local lab, or against a target (--target: a
// team's own installation, or a lab another `ecm-lab up --json` runs); cucumber writes its
// reports under reports/, then Allure 3 renders reports/allure-report/index.html (one file,
// allurerc.mjs) from the results, and evidence/ writes the traceability matrix, the run summary
// and the conformance report (reports/conformance/<target>/) beside them.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type LabConfig } from '../../config/config.ts';
import { CAPABILITIES, grantedTagExpression, unknownCapabilities, type Capability } from '../../conformance/target/capabilities.ts';
import { grantedBy, loadTargetFile, TargetError } from '../../conformance/target/target.ts';
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
export async function writeEvidence(config: LabConfig, reports: string, on: RunTarget = LOCAL): Promise<boolean> {
  try {
    const out = await publishEvidence({
      repoRoot,
      reportsDir: reports,
      target: on.name,
      granted: on.granted,
      toolsBinDir: config.toolsBinDir,
      secrets: [config.provisioning.adminToken, ...on.secrets].filter((s): s is string => Boolean(s)),
    });
    for (const p of out.tagProblems) console.error(`ecm-lab: ${p.uri}:${p.line}: ${p.message}`);
    const notRun = out.conformance.notRunByNeeds;
    if (notRun > 0) console.log(`ecm-lab: ${notRun} scenario(s) not run on ${on.name}: they need what it does not grant (listed in ${out.conformanceHtml})`);
    return true;
  } catch (err) {
    console.error(`ecm-lab: the traceability matrix and run summary could not be written: ${(err as Error).message}`);
    return false;
  }
}

/** What a run runs against, as the reports name it. */
interface RunTarget {
  name: string;
  granted: ReadonlySet<Capability>;
  /** Values that must never reach a report (the target's admin token). */
  secrets: string[];
  /** For cucumber's process: which target, what is withheld. */
  env: Record<string, string>;
}

const LOCAL: RunTarget = { name: 'local', granted: new Set(CAPABILITIES), secrets: [], env: {} };

export interface RunOptions {
  /** A target description (conformance/target/target.ts); the lab starts nothing of its own. */
  target?: string;
  /** Capabilities to withhold from the target, comma-separated (as if it did not grant them). */
  withhold?: string;
}

/** The target the options name, validated: every problem at once, exit 2. */
function runTarget(opts: RunOptions): RunTarget | undefined {
  const withheld = (opts.withhold ?? '').split(',').map((w) => w.trim()).filter(Boolean);
  const unknown = unknownCapabilities(withheld);
  if (unknown.length > 0) throw new TargetError('--withhold', unknown.map((w) => `${w} is not a capability (known: ${CAPABILITIES.join(', ')})`));
  if (!opts.target) {
    if (withheld.length > 0) throw new TargetError('--withhold', ['needs --target: the lab the suite starts itself grants every capability']);
    return undefined;
  }
  const file = path.resolve(opts.target);
  const target = loadTargetFile(file);
  return {
    name: target.name,
    granted: grantedBy(target, withheld),
    secrets: 'kind' in target ? [] : [target.provisioning.adminToken],
    env: { ECM_LAB_TARGET: file, ECM_LAB_WITHHOLD: withheld.join(',') },
  };
}

export async function runCommand(global: { config?: string }, opts: RunOptions, cucumberArgs: string[]): Promise<void> {
  // Validate the configuration and the target here, so a bad file fails once with a clear message.
  const config = loadConfig({ file: global.config });
  // A bad target or --withhold throws TargetError: bin/cli.ts prints every problem, exit 2.
  const on = runTarget(opts) ?? LOCAL;
  const reports = path.join(repoRoot, 'reports');
  const allureResults = path.join(reports, 'allure-results');
  rmSync(allureResults, { recursive: true, force: true });
  mkdirSync(path.join(reports, 'cucumber'), { recursive: true });
  const env = { ...process.env, ...(global.config ? { ECM_LAB_CONFIG: path.resolve(global.config) } : {}), ...on.env };
  const cucumber = path.join(repoRoot, 'node_modules/@cucumber/cucumber/bin/cucumber.js');
  const features = namesFeatures(cucumberArgs) ? [] : [DEFAULT_FEATURES];
  // Scenarios that need what the target does not grant stay out (cucumber ANDs repeated --tags);
  // the conformance report lists each as "not run: needs X".
  const gate = grantedTagExpression(on.granted);
  if (on !== LOCAL) console.log(`ecm-lab: running against target "${on.name}"; granted: ${[...on.granted].join(', ') || 'nothing beyond its endpoints'}`);
  const code = await runNode(['--import', 'tsx', cucumber, ...features, ...cucumberArgs, ...(gate ? ['--tags', gate] : [])], env);

  // The report is written for failed runs too: that is when it is read most.
  const allure = path.join(repoRoot, 'node_modules/allure/cli.js');
  const allureReport = path.join(reports, 'allure-report');
  if (existsSync(allureResults)) {
    rmSync(allureReport, { recursive: true, force: true });
    const allureCode = await runNode([allure, 'generate', allureResults, '--output', allureReport], env);
    if (allureCode !== 0) console.error(`ecm-lab: the Allure report could not be generated (exit ${allureCode})`);
  }
  // Evidence that cannot be written fails the run loudly (e.g. Chromium missing for the PDF).
  const evidence = await writeEvidence(config, reports, on);
  console.log(
    `\nreports (each opens from disk): ${path.join(reports, 'summary/index.html')} (and summary.pdf), ${path.join(reports, 'traceability/index.html')}, ${path.join(reports, 'conformance', on.name, 'index.html')}, ${path.join(reports, 'allure-report/index.html')}, ${path.join(reports, 'cucumber/report.html')}; logs under ${path.join(reports, 'logs')}`,
  );
  process.exitCode = code !== 0 ? code : evidence ? 0 : 1;
}

/** ecm-lab report evidence: the matrix and the summary again, from the last run's messages. */
export async function reportEvidenceCommand(global: { config?: string }, opts: RunOptions = {}): Promise<void> {
  const config = loadConfig({ file: global.config });
  const reports = path.join(repoRoot, 'reports');
  // A bad target or --withhold throws TargetError: bin/cli.ts prints every problem, exit 2.
  const on = runTarget(opts) ?? LOCAL;
  const ok = await writeEvidence(config, reports, on);
  if (ok) console.log(`${path.join(reports, 'traceability/index.html')}, ${path.join(reports, 'summary/index.html')} (and summary.pdf)`);
  process.exitCode = ok ? 0 : 1;
}
