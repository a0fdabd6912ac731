// Every `ecm-lab` command line in deploy/k8s/*.yaml uses only commands and options the CLI has:
// each is read from the pods' command and args and resolved against the commander program of
// bin/cli.ts (the one docs/reference/cli.md is generated from), so a manifest cannot name an
// option that does not exist.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { program } from '../../bin/cli.ts';
import { repoRoot } from '../../environments/tools/tools.ts';

const DIR = path.join(repoRoot, 'deploy/k8s');
const ENTRY = /(?:^|\/)ecm-lab(?:\.js)?$/;
const SHELL_END = new Set(['>', '>>', '<', '|', '||', '&&', ';', '&', '2>&1']);

type Doc = Record<string, any>;

/** Each container's command line as one string, named by file, object and container. */
function commandLines(): Array<{ where: string; line: string }> {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) => parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((d) => ({ file, doc: d.toJS() as Doc })))
    .flatMap(({ file, doc }) => {
      const pod = doc.spec?.template?.spec as Doc | undefined;
      const containers = [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])] as Doc[];
      return containers.map((c) => ({ where: `${file} ${doc.kind}/${doc.metadata.name} container ${c.name}`, line: [...(c.command ?? []), ...(c.args ?? [])].join(' ') }));
    });
}

/** The ecm-lab invocations of a command line, each as its words up to the end of the shell command. */
function invocations(line: string): string[][] {
  // A shell substitution ($((k + 1)), $(seq -f ...)) is one value of the ecm-lab command, not its words.
  let flat = line;
  for (let prev = ''; prev !== flat; ) {
    prev = flat;
    flat = flat.replace(/\$\(\([^()]*\)\)/g, 'VALUE').replace(/\$\([^()]*\)/g, 'VALUE');
  }
  const words = flat.split(/\s+/).filter(Boolean).map((w) => w.replace(/^["']|["']$/g, ''));
  const found: string[][] = [];
  words.forEach((w, i) => {
    if (!ENTRY.test(w)) return;
    const rest = words.slice(i + 1);
    const end = rest.findIndex((r) => SHELL_END.has(r) || r.startsWith('>'));
    found.push(end === -1 ? rest : rest.slice(0, end));
  });
  return found;
}

const longFlags = (cmd: Command) => cmd.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => Boolean(f));

/** What in one invocation the CLI does not have, or [] when it resolves to a command with only its options. */
function unknownInCli(words: string[], root: Command = program): string[] {
  const problems: string[] = [];
  let cmd = root;
  const known = () => new Set([...longFlags(root), ...(cmd === root ? [] : longFlags(cmd)), '-h', '--help']);
  for (const word of words) {
    if (word.startsWith('-')) {
      const flag = word.split('=')[0]!;
      if (!known().has(flag)) problems.push(`\`${[root.name(), ...commandPath(cmd)].join(' ')}\` has no option ${flag}`);
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) cmd = sub;
  }
  if (cmd.commands.length > 0 && cmd !== root) problems.push(`\`${[root.name(), ...commandPath(cmd)].join(' ')}\` needs a subcommand (${cmd.commands.map((c) => c.name()).join(', ')})`);
  if (cmd === root) problems.push(`no ecm-lab command in: ${words.join(' ')}`);
  return problems;
}

function commandPath(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

test('every ecm-lab command line in deploy/k8s uses only commands and options the CLI has', () => {
  const lines = commandLines().flatMap(({ where, line }) => invocations(line).map((words) => ({ where, words })));
  assert.ok(lines.length >= 3, `found ${lines.length} ecm-lab command lines (the lab, the segments, the merge)`);
  const problems = lines.flatMap(({ where, words }) => unknownInCli(words).map((p) => `${where}: ${p}`));
  assert.deepEqual(problems, []);
});

test('an option or a command the CLI lacks is named', () => {
  assert.deepEqual(unknownInCli(invocations('exec node /opt/ecm-lab/bin/ecm-lab.js load --lab "$LAB" --client-network 198.18.0.0/16 > out')[0]!), ['`ecm-lab load` has no option --client-network']);
  assert.deepEqual(unknownInCli(invocations('node bin/ecm-lab.js --config c.json up --json --serve-description 8080')[0]!), ['`ecm-lab up` has no option --serve-description']);
  assert.deepEqual(invocations('exec node bin/ecm-lab.js report merge $(seq -f "/r/x-%g" 0 $((N - 1))) --out /r'), [['report', 'merge', 'VALUE', '--out', '/r']]);
  assert.deepEqual(unknownInCli(['report']), ['`ecm-lab report` needs a subcommand (' + program.commands.find((c) => c.name() === 'report')!.commands.map((c) => c.name()).join(', ') + ')']);
  assert.deepEqual(unknownInCli(['launch', '--fast']), ['`ecm-lab` has no option --fast', 'no ecm-lab command in: launch --fast']);
});
