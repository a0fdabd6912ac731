// ecm-lab's entry: parses the command line (bin/cli.ts) and turns whatever ends a command into
// the one exit-code scheme (bin/exit-codes.ts): commander's own errors and every kind of bad
// input exit 2 after one line, a lab that could not run exits 3.
import { CommanderError } from 'commander';
import { ConfigError } from '../config/config.ts';
import { DurationError } from '../config/durations.ts';
import { TargetError } from '../conformance/target/target.ts';
import { program } from './cli.ts';
import { BadInput, EXIT } from './exit-codes.ts';

const BAD_INPUT = [ConfigError, TargetError, BadInput, DurationError];

try {
  await program.parseAsync();
} catch (err) {
  // commander has printed its message (and the hint) already; --help and --version end here too.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.badInput);
  const bad = BAD_INPUT.some((kind) => err instanceof kind);
  console.error(`ecm-lab: ${(err as Error).message}`);
  process.exit(bad ? EXIT.badInput : EXIT.couldNotRun);
}
