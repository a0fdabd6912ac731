// The arguments `ecm-lab run` hands to cucumber-js, checked by cucumber's own parser before a lab
// starts: an option cucumber does not know, a value it refuses or a tag expression that does not
// parse is bad input (exit 2, one line), where cucumber itself would exit 1 like a failed run.
// The parser calls process.exit on an error, so it runs in a child of its own.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { repoRoot } from '../../environments/tools/tools.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/**
 * Parses the arguments as cucumber-js would, then the --tags expression; exits 1 with the
 * message. The arguments come as JSON in the environment: on node's own command line, after -e,
 * node would take --import or -r for itself.
 */
const CHECK = `
try {
  const argv = JSON.parse(process.env.CUCUMBER_ARGS);
  const { configuration } = require(process.env.ARGV_PARSER).default.parse(['node', 'cucumber-js', ...argv]);
  if (configuration.tags) require(process.env.TAG_EXPRESSIONS).default(configuration.tags);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}`;

/** Why cucumber-js would refuse these arguments (its own words, on one line), or undefined. */
export async function cucumberArgsProblem(args: string[]): Promise<string | undefined> {
  const cucumber = require.resolve('@cucumber/cucumber/package.json', { paths: [repoRoot] }).replace(/package\.json$/, '');
  const env = {
    ...process.env,
    ARGV_PARSER: require.resolve('@cucumber/cucumber/lib/configuration/argv_parser', { paths: [repoRoot] }),
    TAG_EXPRESSIONS: require.resolve('@cucumber/tag-expressions', { paths: [cucumber] }),
    CUCUMBER_ARGS: JSON.stringify(args),
  };
  try {
    await run(process.execPath, ['-e', CHECK], { cwd: repoRoot, env, timeout: 30_000 });
    return undefined;
  } catch (err) {
    const { stderr, code } = err as { stderr?: string; code?: number | string };
    if (typeof code !== 'number') throw err;
    const message = (stderr ?? '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
    return message || `cucumber-js refused the arguments (exit ${code})`;
  }
}
