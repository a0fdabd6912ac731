// ecm-lab: one way into the lab. The commands and their options; each command's work lives in
// its own module under bin/commands, and bin/main.ts parses and exits. Nothing here runs on
// import, so scripts/generate-reference.ts writes docs/reference/cli.md from this program.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { repoRoot } from '../environments/tools/tools.ts';
import { EXIT_CODES } from './exit-codes.ts';
import { benchCommand } from './commands/bench.ts';
import { doctorCommand } from './commands/doctor.ts';
import { imagesBuildCommand } from './commands/images.ts';
import { composeCommand } from './commands/compose.ts';
import { CONTRACT_HELP, contractCommand, type ContractCliOptions } from './commands/contract.ts';
import { loadCommand, reportMergeCommand, type LoadCliOptions } from './commands/load.ts';
import { MAX_DEVICES } from './commands/load-options.ts';
import { FAULT_KINDS } from '../load/faults/faults.ts';
import { EXECUTOR_KINDS } from '../load/executors.ts';
import { SCENARIO_NAMES, SCENARIOS } from '../load/scenarios.ts';
import { reportEvidenceCommand, runCommand, type RunOptions } from './commands/run.ts';
import { reportDiffCommand } from './commands/report-diff.ts';
import { CAPABILITIES } from '../conformance/target/capabilities.ts';
import { upCommand } from './commands/up.ts';

/** Every scenario with its default executor and one example (also in the README). */
function scenarioHelp(): string {
  const rows = Object.values(SCENARIOS).map((s) => {
    const d = s.defaults;
    const executor = s.executor === 'arrival-rate' ? `arrival-rate, ${d.devices} devices at ${d.rate}/s` : `${s.executor}, ${d.devices} devices over ${d.vus} VUs`;
    return `  ${s.name}\n    ${s.measures}\n    default: ${executor}${d.durationMs ? `, steady state ${d.durationMs / 1000}s` : ''}\n    e.g. ${s.example}`;
  });
  return `\nScenarios:\n${rows.join('\n')}\n\nExecutors (as in k6): arrival-rate (open model: --rate, --max-concurrent), constant-vus (--vus loop for --vus-duration), iterations (--vus share --devices).\nDurations: 1m30s, 90s, 1500ms, 2h; a bare number is seconds for the time options and milliseconds for --interval and the thresholds.\nExit codes: 0 thresholds met, 1 a threshold broken (named on stderr), 2 bad options, 3 the lab could not run, 130 interrupted (the partial report is written).\n`;
}

const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };

export const program = new Command('ecm-lab')
  .description('Test harness and simulation lab for certificate management of connected medical devices')
  .version(version, '-V, --version', 'print the version')
  .addOption(new Option('-c, --config <file>', 'JSON config file (also ECM_LAB_CONFIG)'))
  .addHelpText('after', `\nExit codes (every command):\n${EXIT_CODES.map((e) => `  ${String(e.code).padEnd(4)}${e.meaning}`).join('\n')}\n`);

program
  .command('doctor')
  .description('show every tool the lab uses, its version, pin and path, and how to fix what is missing; the container engine, its socket and the images')
  .option('--json', 'print the report as JSON')
  .action((opts: { json?: boolean }) => doctorCommand(program.opts(), opts));

program
  .command('up')
  .description('start the lab (step-ca, Mosquitto, provisioning service) and keep it running until Ctrl-C / SIGTERM')
  .option('--json', 'print one JSON object with the endpoints once everything is ready')
  .option('--serve-challenges', 'answer http-01 challenges from a webroot directory, for fleets attached with `ecm-lab load --lab`')
  .addOption(new Option('--backend <backend>', 'where the components run (also config `backend`, ECM_LAB_BACKEND)').choices(['local', 'containers']))
  .action((opts: { json?: boolean; serveChallenges?: boolean; backend?: 'local' | 'containers' }) => upCommand(program.opts(), opts));

program
  .command('compose', { hidden: true })
  .description('a role of compose.yaml (init, provisioning, responder, lumia, device): what its containers run')
  .argument('<role>')
  .action((role: string) => composeCommand(role));

program
  .command('images')
  .description('container images of the containers backend')
  .command('build')
  .description('build the local images (step-ca, mosquitto, provisioning-service, ecm-lab) from Debian packages and the bootstrap\'s binaries; unchanged images are kept')
  .option('--json', 'print the images as JSON')
  .action((opts: { json?: boolean }) => imagesBuildCommand(program.opts(), opts));

program
  .command('run')
  .description('run the Gherkin scenarios against a local lab, or against a target (--target), and write the reports (JUnit XML included) under reports/ or --out')
  .argument('[cucumberArgs...]', 'extra arguments for cucumber-js, e.g. --tags @uc01 or a feature path')
  .option('--target <file>', 'a target description (JSON; `ecm-lab up --json` writes one): run against that installation instead of starting a lab')
  .option('--withhold <capabilities>', `with --target: capabilities to withhold, comma-separated (${CAPABILITIES.join(', ')})`)
  .option('--out <dir>', 'where every report and log of the run goes (default: reports/ of the repository)')
  .option('--junit <file>', 'the JUnit XML report (default: <out>/junit.xml)')
  .option('--no-pdf', 'do not print the run summary to PDF (no Chromium needed); without it a missing Chromium skips the PDF with a warning')
  .option('--json', 'print the result as one JSON object on stdout (the progress goes to stderr)')
  .allowUnknownOption()
  .addHelpText('after', '\nOptions it does not know go to cucumber-js (checked by cucumber\'s own parser before the lab starts), e.g. run --tags @uc01, or after --: run -- --tags @uc01 features/x.feature:12.\nScenarios tagged @needs:<capability> run only where the target grants it; the rest are listed "not run: needs X" in <out>/conformance/<target>/.\nExit codes: 0 every scenario passed, 1 a scenario failed or the evidence pages could not be written, 2 a bad option, target or cucumber argument, 3 the lab could not run.\n')
  .action((cucumberArgs: string[], opts: RunOptions) => runCommand(program.opts(), opts, cucumberArgs));

program
  .command('contract')
  .description("replay the provisioning service's contract (services/provisioning/openapi.yaml) against a target's service; without --target against a reference lab it starts and stops")
  .addHelpText('after', CONTRACT_HELP)
  .option('--target <file>', 'target description (JSON; `ecm-lab up --json` prints one): provisioning url, insecureUrl, adminToken, ca.rootPem')
  .option('--out <dir>', 'report root', 'reports/contract')
  .option('--json', 'print the result as one JSON object on stdout (the progress goes to stderr)')
  .action((opts: ContractCliOptions) => contractCommand(program.opts(), opts));

// The load command's thresholds and same-run baselines: flags, what they set, default.
const LOAD_LIMITS: Array<[string, string, string?]> = [
  ['--max-provisioning-p99 <duration>', 'threshold: p99 of obtaining a certificate (full-flow, bootstrap-endpoint, x5c-sign; NFR-PERF-001); a bare number is ms', '30s'],
  ['--max-connect-p99 <duration>', 'threshold: MQTT connect p99 (mqtt scenarios)', '10s'],
  ['--max-delivery-p99 <duration>', 'threshold: MQTT delivery p99 (NFR-PERF-002)', '1s'],
  ['--max-renewal-p99 <duration>', 'threshold: p99 of a renewal request (renewal-soak; NFR-PERF-001)', '30s'],
  ['--no-baselines', "skip the same-run baselines (step-ca signing, the CA's own limit, Mosquitto clients, handshakes)"],
  ['--baseline-signs <n>', 'signatures in the step-ca signing baseline', '100'],
  ['--baseline-flows <n>', "devices in the CA's-own-limit baseline (ACME + X5C at step-ca alone)", '50'],
  ['--baseline-messages <n>', 'messages in the MQTT baselines', '20000'],
  ['--baseline-handshakes <n>', 'mutual-TLS connections in the handshake CPU baseline', '100'],
  ['--handshake-client <client>', "who makes the client side of the handshake CPU baseline: 'node' (mqtt.js, the lab's client), 'native' (ecm-connect, Go's crypto/tls; scripts/bootstrap.sh builds it) or 'both', one after the other on the same broker", 'node'],
];

const load = program
  .command('load')
  .description('run a named load scenario against a fresh local lab (or a running one, --lab); report under reports/perf/')
  .addHelpText('after', scenarioHelp())
  .option('--scenario <name>', `what to load: ${SCENARIO_NAMES.join(', ')}`, 'full-flow')
  .option('--executor <kind>', `how iterations start: ${EXECUTOR_KINDS.join(', ')} (default: the scenario's)`)
  .option('--devices <n>', `devices, one identity and certificate each = iterations (1..${MAX_DEVICES}; default: the scenario's)`)
  .option('--rate <n>', 'arrival-rate: devices arriving per second, whole run (at most 1000)')
  .option('--max-concurrent <n>', 'arrival-rate: iterations running at once, at most (k6 maxVUs)')
  .option('--vus <n>', 'constant-vus, iterations: virtual users, whole run')
  .option('--vus-duration <duration>', 'constant-vus: how long the VUs loop (default 30s)')
  .option('--max-duration <duration>', 'arrival-rate, iterations: no iteration starts after this (at most 1h)')
  .option('--graceful-stop <duration>', 'how long running iterations may take after the executor ends; then they are abandoned and counted as timeouts', '2m')
  .option('--duration <duration>', 'fleet scenarios: steady state after the last device came up, e.g. 30s, 1m30s (at most 1h)')
  .option('--mix <spec>', 'fleet scenarios: firmware mix, percentages summing to 100 (default 2.1:100)')
  .option('--qos <0|1>', 'fleet scenarios: telemetry QoS (default 1)')
  .option('--interval <duration>', 'fleet scenarios: telemetry interval per device, e.g. 1s, 250ms (a bare number is ms)')
  .option('--cert-lifetime <duration>', "full-flow, renewal-soak: operational certificate lifetime; devices renew at 2/3 of it (renewal-soak: 60s, 10s..24h)")
  .option('--certificates <how>', "full-flow: 'issued' runs the mqtt-publish scenario (certificates straight from the lab CA)")
  .addOption(new Option('--sign-at <where>', "x5c-sign: where the sign requests go: 'service' (the CA URL devices use, default) or 'step-ca' (step-ca itself)").choices(['service', 'step-ca']))
  // --target names a target file in run and contract; the old name here is refused with the new one.
  .addOption(new Option('--target <where>').hideHelp())
  .option('--segment <i/n>', 'run segment i of n: a disjoint share of the devices, their addresses, the rate and the VUs', '1/1')
  .option('--seed <n>', 'seed of the device identities', '1')
  .option('--pre-made-keys', "full-flow: every device's keys and CSRs made before the clock starts (the summary lists the figures measured so)")
  .option('--device-client <client>', "fleet scenarios: who runs the devices: 'node' (the lab's devices, in this process or its worker threads) or 'native' (ecm-device, one Go process: full-flow, firmware 2.1 only; scripts/bootstrap.sh builds it)", 'node')
  .option('--workers <n>', 'fleet scenarios: worker threads the devices are spread over (1 = the main thread)', '1');
for (const [flags, description, value] of LOAD_LIMITS) load.option(flags, description, value);
load
  .option('--faults <kinds>', `fleet scenarios: ${FAULT_KINDS.join(',')}`)
  .option('--lab <file>', 'attach to a running lab instead of starting one: the JSON of `ecm-lab up --json --serve-challenges` (full-flow and bootstrap-endpoint; segments can share it)')
  .option('--client-addresses <cidr[,cidr...]>', 'the IPv4 block every client binds (devices by global index, each segment\'s application from the top; a /32 is one address all share) instead of the loopback blocks; or, for the fleet scenarios, one block per segment in segment order (the addresses of the machine each segment runs on; every segment white-lists them all). Outside 127.0.0.0/8 only towards a remote lab, on addresses of this host. With --lab the command answers its devices\' http-01 challenges itself on the lab\'s ACME http port (the lab needs no --serve-challenges)')
  .option('--out <dir>', 'report root', 'reports/perf')
  .option('--run-id <id>', 'name of the report directory')
  .option('--json', 'print the result as one JSON object on stdout (progress and the summary go to stderr)')
  .action(async (opts: LoadCliOptions) => {
    await loadCommand(program.opts(), opts);
  });

program
  .command('bench')
  .description('run the standard load profile and write its figures into BENCHMARKS.md')
  .action(() => benchCommand(program.opts()));

const report = program.command('report').description('reports: merge performance runs; the evidence pages of the last Gherkin run; compare two conformance reports');

report
  .command('evidence')
  .description('write the traceability matrix (reports/traceability/), the run summary (reports/summary/, HTML and PDF) and the conformance report (reports/conformance/<target>/) from the last run')
  .option('--target <file>', 'the target the last run ran against (its name and grants label the reports)')
  .option('--withhold <capabilities>', 'what that run withheld, comma-separated')
  .option('--out <dir>', 'the reports directory of that run (default: reports/ of the repository)')
  .option('--no-pdf', 'do not print the run summary to PDF')
  .action((opts: RunOptions) => reportEvidenceCommand(program.opts(), opts));

report
  .command('diff')
  .description('compare two traceability matrices or conformance reports (e.g. reports/conformance/local/conformance.json and reports/conformance/<target>/conformance.json); exit 1 when they differ')
  .argument('<before>')
  .argument('<after>')
  .option('--json', 'print the differences as JSON')
  .action((before: string, after: string, opts: { json?: boolean }) => reportDiffCommand(before, after, opts));

report
  .command('merge')
  .description('merge the summaries of several runs or segments into one report (histograms merge exactly)')
  .argument('<dirs...>', 'report directories holding summary.json')
  .option('--out <dir>', 'report root', 'reports/perf')
  .option('--run-id <id>', 'name of the merged report directory')
  .action((dirs: string[], opts: { out: string; runId?: string }) => reportMergeCommand(dirs, opts));

// Every command: bad input prints one line and the hint, not the whole help; commander's errors
// reach bin/main.ts, which exits 2 for them.
function conventions(command: Command, name: string): void {
  command.exitOverride().showHelpAfterError(`(run '${name} --help' for ${command.commands.length > 0 ? 'its commands' : 'its options'})`);
  for (const sub of command.commands) conventions(sub, `${name} ${sub.name()}`);
}
conventions(program, 'ecm-lab');
