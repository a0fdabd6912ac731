// ecm-lab run: the Gherkin scenarios against a local lab, or against a target (--target: a
// team's own installation, or a lab another `ecm-lab up --json` runs); cucumber writes its
// reports (and JUnit XML) under the reports directory (--out, default reports/), then Allure 3
// renders allure-report/index.html (one file, allurerc.mjs) from the results, and evidence/
// writes the traceability matrix, the run summary and the conformance report beside them.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type LabConfig } from '../../config/config.ts';
import { CAPABILITIES, grantedTagExpression, unknownCapabilities, type Capability } from '../../conformance/target/capabilities.ts';
import { grantedBy, loadTargetFile, TargetError } from '../../conformance/target/target.ts';
import { keepOffline } from '../../evidence/offline-page.ts';
import { publishEvidence } from '../../evidence/publish.ts';
import { locateTool, MissingToolError, repoRoot } from '../../environments/tools/tools.ts';
import { BadInput, EXIT } from '../exit-codes.ts';
import { cucumberArgsProblem } from './cucumber-args.ts';
import { runResult } from './run-result.ts';

const DEFAULT_FEATURES = 'features/';

/** True when the arguments name features to run (files, directories, file:line). */
function namesFeatures(args: string[]): boolean {
  return args.some((arg) => !arg.startsWith('-') && (/\.feature(:\d+)*$/.test(arg) || existsSync(path.resolve(repoRoot, arg))));
}

/** Feature files the arguments name that do not exist: cucumber would run nothing and pass. */
function missingFeatures(args: string[]): string[] {
  return args.filter((arg) => !arg.startsWith('-') && /\.feature(:\d+)*$/.test(arg) && !existsSync(path.resolve(repoRoot, arg.replace(/(:\d+)+$/, ''))));
}

/** `toStderr`: the child's stdout goes to our stderr, keeping stdout for --json. */
async function runNode(args: string[], env: NodeJS.ProcessEnv, toStderr = false): Promise<number> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['inherit', toStderr ? 2 : 'inherit', 'inherit'], env });
  // Forward Ctrl-C / SIGTERM so cucumber's hooks stop the lab before we exit.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    return code ?? (signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated);
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

/**
 * The traceability matrix and the run summary of the last run. A failure here is reported, not
 * thrown: the scenarios' verdict is the run's exit code, and the other reports are written.
 */
async function writeEvidence(config: LabConfig, reports: string, on: RunTarget, pdf: boolean, say: (line: string) => void): Promise<boolean> {
  try {
    const out = await publishEvidence({
      repoRoot,
      reportsDir: reports,
      target: on.name,
      granted: on.granted,
      toolsBinDir: config.toolsBinDir,
      secrets: [config.provisioning.adminToken, ...on.secrets].filter((s): s is string => Boolean(s)),
      pdf,
    });
    for (const p of out.tagProblems) console.error(`ecm-lab: ${p.uri}:${p.line}: ${p.message}`);
    const notRun = out.conformance.notRunByNeeds;
    if (notRun > 0) say(`ecm-lab: ${notRun} scenario(s) not run on ${on.name}: they need what it does not grant (listed in ${out.conformanceHtml})`);
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
  /** The reports directory; reports/ of the repository when absent. */
  out?: string;
  /** The JUnit XML file; <out>/junit.xml when absent. */
  junit?: string;
  /** false with --no-pdf. */
  pdf?: boolean;
  json?: boolean;
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

/**
 * Whether the run summary is printed to PDF: not with --no-pdf; and a missing Chromium only
 * skips it, with a warning, so an all-green run stays green. A summary.pdf of an earlier run
 * is removed then, so that no PDF pretends to be this run's.
 */
function pdfPlan(opts: RunOptions, config: LabConfig, reports: string): { pdf: boolean; warning?: string } {
  let plan: { pdf: boolean; warning?: string } = { pdf: opts.pdf !== false };
  if (plan.pdf) {
    try {
      locateTool('chromium', config.toolsBinDir);
    } catch (err) {
      if (!(err instanceof MissingToolError)) throw err;
      plan = { pdf: false, warning: `summary.pdf not written: ${err.message} (--no-pdf skips the PDF without this warning)` };
    }
  }
  if (!plan.pdf) rmSync(path.join(reports, 'summary', 'summary.pdf'), { force: true });
  return plan;
}

/** The reports directory: --out (from the working directory), or the repository's reports/. */
const reportsDir = (opts: RunOptions) => (opts.out ? path.resolve(opts.out) : path.join(repoRoot, 'reports'));

export async function runCommand(global: { config?: string }, opts: RunOptions, cucumberArgs: string[]): Promise<void> {
  // Validate the configuration, the target and cucumber's arguments here, before a lab starts,
  // so that bad input fails once with a clear message (bin/main.ts: exit 2).
  const config = loadConfig({ file: global.config });
  const on = runTarget(opts) ?? LOCAL;
  const missing = missingFeatures(cucumberArgs);
  if (missing.length > 0) throw new BadInput(`no such feature file: ${missing.join(', ')}`);
  const refused = await cucumberArgsProblem(cucumberArgs);
  if (refused) throw new BadInput(`cucumber-js refuses the arguments: ${refused} (see 'ecm-lab run --help' and 'npx cucumber-js --help')`);
  const say = (line: string) => (opts.json ? console.error(line) : console.log(line));
  const reports = reportsDir(opts);
  const junit = opts.junit ? path.resolve(opts.junit) : path.join(reports, 'junit.xml');
  // Logs go with the reports unless the configuration or the environment put them elsewhere.
  const logs = opts.out && !process.env.ECM_LAB_LOGS_DIR && config.logsDir === 'reports/logs' ? path.join(reports, 'logs') : path.resolve(repoRoot, config.logsDir);
  const allureResults = path.join(reports, 'allure-results');
  rmSync(allureResults, { recursive: true, force: true });
  mkdirSync(path.join(reports, 'cucumber'), { recursive: true });
  const env = {
    ...process.env,
    ...(global.config ? { ECM_LAB_CONFIG: path.resolve(global.config) } : {}),
    ...on.env,
    // cucumber.cjs writes its reports there.
    ECM_LAB_REPORTS_DIR: reports,
    ECM_LAB_JUNIT: junit,
    ECM_LAB_LOGS_DIR: logs,
  };
  const cucumber = path.join(repoRoot, 'node_modules/@cucumber/cucumber/bin/cucumber.js');
  const features = namesFeatures(cucumberArgs) ? [] : [DEFAULT_FEATURES];
  // Scenarios that need what the target does not grant stay out (cucumber ANDs repeated --tags);
  // the conformance report lists each as "not run: needs X".
  const gate = grantedTagExpression(on.granted);
  if (on !== LOCAL) say(`ecm-lab: running against target "${on.name}"; granted: ${[...on.granted].join(', ') || 'nothing beyond its endpoints'}`);
  const code = await runNode(['--import', 'tsx', cucumber, ...features, ...cucumberArgs, ...(gate ? ['--tags', gate] : [])], env, opts.json);

  // The report is written for failed runs too: that is when it is read most.
  const allure = path.join(repoRoot, 'node_modules/allure/cli.js');
  const allureReport = path.join(reports, 'allure-report');
  if (existsSync(allureResults)) {
    rmSync(allureReport, { recursive: true, force: true });
    const allureCode = await runNode([allure, 'generate', allureResults, '--output', allureReport], env, opts.json);
    if (allureCode !== 0) console.error(`ecm-lab: the Allure report could not be generated (exit ${allureCode})`);
    else keepOffline(path.join(allureReport, 'index.html'), say);
  }
  const { pdf, warning } = pdfPlan(opts, config, reports);
  if (warning) console.error(`ecm-lab: warning: ${warning}`);
  // Evidence that cannot be written fails the run loudly.
  const evidence = await writeEvidence(config, reports, on, pdf, say);
  say(
    `\nreports (each opens from disk): ${path.join(reports, 'summary/index.html')}${pdf ? ' (and summary.pdf)' : ''}, ${path.join(reports, 'traceability/index.html')}, ${path.join(reports, 'conformance', on.name, 'index.html')}, ${path.join(reports, 'allure-report/index.html')}, ${path.join(reports, 'cucumber/report.html')}, JUnit ${junit}; logs under ${logs}`,
  );
  // cucumber exits 1 for a failed scenario; a signal keeps its own code.
  const exitCode = code > EXIT.failed ? code : code === EXIT.failed || !evidence ? EXIT.failed : EXIT.ok;
  if (opts.json) console.log(JSON.stringify(runResult({ exitCode, target: on.name, reports, junit, logs, pdf, warnings: warning ? [warning] : [] })));
  process.exitCode = exitCode;
}

/** ecm-lab report evidence: the matrix and the summary again, from the last run's messages. */
export async function reportEvidenceCommand(global: { config?: string }, opts: RunOptions = {}): Promise<void> {
  const config = loadConfig({ file: global.config });
  const reports = reportsDir(opts);
  // A bad target or --withhold throws TargetError: bin/main.ts prints every problem, exit 2.
  const on = runTarget(opts) ?? LOCAL;
  const { pdf, warning } = pdfPlan(opts, config, reports);
  if (warning) console.error(`ecm-lab: warning: ${warning}`);
  const ok = await writeEvidence(config, reports, on, pdf, console.log);
  if (ok) console.log(`${path.join(reports, 'traceability/index.html')}, ${path.join(reports, 'summary/index.html')}${pdf ? ' (and summary.pdf)' : ''}`);
  process.exitCode = ok ? EXIT.ok : EXIT.failed;
}
