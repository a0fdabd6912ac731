// ecm-lab: one way into the lab. Each command lives in its own module under bin/commands.
import { Command, Option } from 'commander';
import { ConfigError } from '../environments/config.ts';
import { benchCommand } from './commands/bench.ts';
import { doctorCommand } from './commands/doctor.ts';
import { imagesBuildCommand } from './commands/images.ts';
import { composeCommand } from './commands/compose.ts';
import { loadCommand, reportMergeCommand, type LoadCliOptions } from './commands/load.ts';
import { runCommand } from './commands/run.ts';
import { upCommand } from './commands/up.ts';

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
  .description('run the Gherkin scenarios against a local lab and write reports under reports/')
  .argument('[cucumberArgs...]', 'extra arguments for cucumber-js, e.g. --tags @uc01 or a feature path')
  .allowUnknownOption()
  .action((cucumberArgs: string[]) => runCommand(program.opts(), cucumberArgs));

program
  .command('load')
  .description('run a fleet of simulated devices against a fresh local lab (or a running one, --lab); report under reports/perf/')
  .option('--devices <n>', 'number of devices (1..100000)', '50')
  .option('--mix <spec>', 'firmware mix, percentages summing to 100', '2.1:100')
  .option('--rate <n>', 'device arrivals per second (1..1000)', '10')
  .option('--duration <time>', 'steady state after the last arrival: every device publishes this long, e.g. 30s, 2m (at most 1h)', '30s')
  .option('--qos <0|1>', 'telemetry QoS', '1')
  .option('--interval <ms>', 'telemetry interval per device', '1000')
  .option('--cert-lifetime <time>', 'operational certificate lifetime (renewals happen during the run when short)')
  .option('--segment <i/n>', 'run segment i of n: a disjoint share of the devices, their addresses and the arrival rate', '1/1')
  .option('--seed <n>', 'seed of the device identities', '1')
  .option('--max-concurrent <n>', 'devices provisioning at the same time, at most', '50')
  .option('--certificates <how>', "'provisioned' (ACME + X5C per device) or 'issued' (straight from the lab CA, for MQTT at scale)", 'provisioned')
  .option('--workers <n>', 'worker threads the devices are spread over (1 = the main thread)', '1')
  .option('--max-provisioning-p99 <ms>', 'threshold: provisioning p99 (NFR-PERF-001)', '30000')
  .option('--max-delivery-p99 <ms>', 'threshold: MQTT delivery p99 (NFR-PERF-002)', '1000')
  .option('--no-baselines', 'skip the baselines (step-ca signing, Mosquitto clients)')
  .option('--baseline-signs <n>', 'signatures in the step-ca baseline', '100')
  .option('--baseline-messages <n>', 'messages in the MQTT baselines', '20000')
  .option('--baseline-handshakes <n>', 'mutual-TLS connections in the handshake CPU baseline', '100')
  .option('--faults <kinds>', 'restart components during the run: ca-restart,broker-restart,provisioning-restart,device-restart')
  .option('--lab <file>', 'attach to a running lab instead of starting one: the JSON of `ecm-lab up --json --serve-challenges` (segments of one fleet can share it)')
  .option('--out <dir>', 'report root', 'reports/perf')
  .option('--run-id <id>', 'name of the report directory')
  .action(async (opts: LoadCliOptions) => {
    await loadCommand(program.opts(), opts);
  });

program
  .command('bench')
  .description('run the standard load profile and write its figures into BENCHMARKS.md')
  .action(() => benchCommand(program.opts()));

program
  .command('report')
  .description('performance reports')
  .command('merge')
  .description('merge the summaries of several runs or segments into one report (histograms merge exactly)')
  .argument('<dirs...>', 'report directories holding summary.json')
  .option('--out <dir>', 'report root', 'reports/perf')
  .option('--run-id <id>', 'name of the merged report directory')
  .action((dirs: string[], opts: { out: string; runId?: string }) => reportMergeCommand(dirs, opts));

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`ecm-lab: ${err.message}`);
    process.exit(2);
  }
  console.error(`ecm-lab: ${(err as Error).message}`);
  process.exit(1);
}
