// ecm-lab: one way into the lab. Each command lives in its own module under bin/commands.
import { Command, Option } from 'commander';
import { ConfigError } from '../environments/config.ts';
import { doctorCommand } from './commands/doctor.ts';
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
  .description('start the lab (step-ca, Mosquitto) and keep it running until Ctrl-C / SIGTERM')
  .option('--json', 'print one JSON object with the endpoints once everything is ready')
  .action((opts: { json?: boolean }) => upCommand(program.opts(), opts));

program
  .command('run')
  .description('run the Gherkin scenarios against a local lab and write reports under reports/')
  .argument('[cucumberArgs...]', 'extra arguments for cucumber-js, e.g. --tags @uc01 or a feature path')
  .allowUnknownOption()
  .action((cucumberArgs: string[]) => runCommand(program.opts(), cucumberArgs));

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
