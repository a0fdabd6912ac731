// ecm-lab: one way into the lab. Each command lives in its own module under bin/commands.
import { Command, Option } from 'commander';
import { ConfigError } from '../config/config.ts';
import { TargetError } from '../conformance/target/target.ts';
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
  return `\nScenarios:\n${rows.join('\n')}\n\nExecutors (as in k6): arrival-rate (open model: --rate, --max-concurrent), constant-vus (--vus loop for --vus-duration), iterations (--vus share --devices).\nExit codes: 0 thresholds met, 3 a threshold broken, 130 interrupted, 2 bad options.\n`;
}

const program = new Command('ecm-lab')
  .description('Test harness and simulation lab for certificate management of connected medical devices')
  .addOption(new Option('-c, --config <file>', 'JSON config file (also ECM_LAB_CONFIG)'))
  .showHelpAfterError();

program
  .command('doctor')
  .description('show every tool the lab uses, its version and path, and how to fix what is missing')
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
  .command('compose')
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
  .description('run the Gherkin scenarios against a local lab, or against a target (--target), and write reports under reports/')
  .argument('[cucumberArgs...]', 'extra arguments for cucumber-js, e.g. --tags @uc01 or a feature path')
  .option('--target <file>', 'a target description (JSON; `ecm-lab up --json` writes one): run against that installation instead of starting a lab')
  .option('--withhold <capabilities>', `with --target: capabilities to withhold, comma-separated (${CAPABILITIES.join(', ')})`)
  .allowUnknownOption()
  .addHelpText('after', '\nScenarios tagged @needs:<capability> run only where the target grants it; the rest are listed "not run: needs X" in reports/conformance/<target>/.\nExit codes: 0 every scenario passed, 1 a scenario failed, 2 a bad target or option.\n')
  .action((cucumberArgs: string[], opts: RunOptions) => runCommand(program.opts(), opts, cucumberArgs));

program
  .command('contract')
  .description("replay the provisioning service's contract (services/provisioning/openapi.yaml) against a target's service; without --target against a reference lab it starts and stops")
  .addHelpText('after', CONTRACT_HELP)
  .option('--target <file>', 'target description (JSON; `ecm-lab up --json` prints one): provisioning url, insecureUrl, adminToken, ca.rootPem')
  .option('--out <dir>', 'report root', 'reports/contract')
  .action((opts: ContractCliOptions) => contractCommand(program.opts(), opts));

program
  .command('load')
  .description('run a named load scenario against a fresh local lab (or a running one, --lab); report under reports/perf/')
  .addHelpText('after', scenarioHelp())
  .option('--scenario <name>', `what to load: ${SCENARIO_NAMES.join(', ')}`, 'full-flow')
  .option('--executor <kind>', `how iterations start: ${EXECUTOR_KINDS.join(', ')} (default: the scenario's)`)
  .option('--devices <n>', `devices, one identity and certificate each = iterations (1..${MAX_DEVICES}; default: the scenario's)`)
  .option('--rate <n>', 'arrival-rate: devices arriving per second, whole run (at most 1000)')
  .option('--max-concurrent <n>', 'arrival-rate: iterations running at once, at most (k6 maxVUs)')
  .option('--vus <n>', 'constant-vus, iterations: virtual users, whole run')
  .option('--vus-duration <time>', 'constant-vus: how long the VUs loop (default 30s)')
  .option('--max-duration <time>', 'arrival-rate, iterations: no iteration starts after this (at most 1h)')
  .option('--graceful-stop <time>', 'how long running iterations may take after the executor ends; then they are abandoned and counted as timeouts', '2m')
  .option('--duration <time>', 'fleet scenarios: steady state after the last device came up, e.g. 30s, 2m (at most 1h)')
  .option('--mix <spec>', 'fleet scenarios: firmware mix, percentages summing to 100 (default 2.1:100)')
  .option('--qos <0|1>', 'fleet scenarios: telemetry QoS (default 1)')
  .option('--interval <ms>', 'fleet scenarios: telemetry interval per device')
  .option('--cert-lifetime <time>', 'full-flow: operational certificate lifetime (renewals happen during the run when short)')
  .option('--certificates <how>', "full-flow: 'issued' runs the mqtt-publish scenario (certificates straight from the lab CA)")
  .option('--target <where>', "x5c-sign: 'service' (the CA URL devices use, default) or 'step-ca' (step-ca itself)")
  .option('--segment <i/n>', 'run segment i of n: a disjoint share of the devices, their addresses, the rate and the VUs', '1/1')
  .option('--seed <n>', 'seed of the device identities', '1')
  .option('--pre-made-keys', "full-flow: every device's keys and CSRs made before the clock starts (the summary lists the figures measured so)")
  .option('--workers <n>', 'fleet scenarios: worker threads the devices are spread over (1 = the main thread)', '1')
  .option('--max-provisioning-p99 <ms>', 'threshold: p99 of obtaining a certificate (full-flow, bootstrap-endpoint, x5c-sign; NFR-PERF-001)', '30000')
  .option('--max-connect-p99 <ms>', 'threshold: MQTT connect p99 (mqtt scenarios)', '10000')
  .option('--max-delivery-p99 <ms>', 'threshold: MQTT delivery p99 (NFR-PERF-002)', '1000')
  .option('--no-baselines', "skip the same-run baselines (step-ca signing, the CA's own limit, Mosquitto clients, handshakes)")
  .option('--baseline-signs <n>', 'signatures in the step-ca signing baseline', '100')
  .option('--baseline-flows <n>', "devices in the CA's-own-limit baseline (ACME + X5C at step-ca alone)", '50')
  .option('--baseline-messages <n>', 'messages in the MQTT baselines', '20000')
  .option('--baseline-handshakes <n>', 'mutual-TLS connections in the handshake CPU baseline', '100')
  .option('--faults <kinds>', `fleet scenarios: ${FAULT_KINDS.join(',')}`)
  .option('--lab <file>', 'attach to a running lab instead of starting one: the JSON of `ecm-lab up --json --serve-challenges` (full-flow and bootstrap-endpoint; segments can share it)')
  .option('--out <dir>', 'report root', 'reports/perf')
  .option('--run-id <id>', 'name of the report directory')
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

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof ConfigError || err instanceof TargetError) {
    console.error(`ecm-lab: ${err.message}`);
    process.exit(2);
  }
  console.error(`ecm-lab: ${(err as Error).message}`);
  process.exit(1);
}
