// Summarises V8 CPU profiles (`node --cpu-prof --cpu-prof-dir=<dir> bin/ecm-lab.js load ...`):
// self time by function and by module, and inclusive time by module, as Markdown tables for
// BENCHMARKS.md. A native frame (a C++ binding such as `sign` or `setKey`, which has no URL) is
// charged to the module of its nearest JavaScript caller, so "node:crypto" holds the signatures
// its callers asked for. Idle time is left out of every share: the shares are of busy time.
//
//   node --import tsx scripts/cpuprofile-summary.ts <file or dir>... [--top 25] [--window 10:40]
//       [--window-from reports/perf/<run>/summary.json[:provisioning|:run]]
//
// --window a:b keeps the samples from a to b seconds after the profile started; --window-from
// takes the window a load run measured its CPU over (the provisioning window by default: first
// arrival to last device up), from the monotonic clock both the summary and V8 use.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/** A module's name for a frame's URL: a package, a node: builtin, or a folder of the project. */
export function moduleOf(url: string, root: string): string {
  if (url === '') return '(native)';
  if (url.startsWith('node:')) {
    const first = url.slice('node:'.length).replace(/^internal\//, '').split('/')[0]!;
    // _tls_wrap, _http_client, _stream_readable: the word after the underscore
    const name = first.startsWith('_') ? first.split('_')[1]! : first;
    return `node:${name}`;
  }
  let file = url;
  try {
    if (url.startsWith('file://')) file = fileURLToPath(url);
  } catch {
    return url;
  }
  const at = file.lastIndexOf('/node_modules/');
  if (at >= 0) {
    const parts = file.slice(at + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const relative = path.relative(root, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return file;
  const dirs = path.dirname(relative).split(path.sep).filter((d) => d !== '.');
  return dirs.length === 0 ? relative : dirs.slice(0, 2).join('/');
}

function frameLabel(frame: CallFrame, root: string): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return SPECIAL.has(name) ? name : `${name} (native)`;
  let where = frame.url;
  try {
    if (where.startsWith('file://')) where = path.relative(root, fileURLToPath(where));
  } catch {
    // keep the URL
  }
  where = where.replace(/^(\.\.\/)+/, '').replace(/^.*node_modules\//, '');
  return `${name} ${where}:${frame.lineNumber + 1}`;
}

export interface ProfileSummary {
  /** Milliseconds the profile covers (in the window), busy and idle. */
  totalMs: number;
  idleMs: number;
  busyMs: number;
  selfByFunction: Map<string, { ms: number; module: string }>;
  selfByModule: Map<string, number>;
  inclusiveByModule: Map<string, number>;
}

/** Adds one profile's samples (those in the window, ms since its start) to `into`. */
export function summarise(profile: CpuProfile, root: string, window?: { fromMs: number; toMs: number }, into?: ProfileSummary): ProfileSummary {
  const out: ProfileSummary = into ?? { totalMs: 0, idleMs: 0, busyMs: 0, selfByFunction: new Map(), selfByModule: new Map(), inclusiveByModule: new Map() };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // For each node: its label, the module its self time is charged to, and the modules on its stack.
  const cache = new Map<number, { label: string; module: string; stack: Set<string>; idle: boolean }>();
  const info = (id: number): { label: string; module: string; stack: Set<string>; idle: boolean } => {
    const known = cache.get(id);
    if (known) return known;
    const node = byId.get(id)!;
    const frame = node.callFrame;
    const up = parent.get(id);
    const above = up === undefined ? undefined : info(up);
    const own = moduleOf(frame.url, root);
    const special = frame.url === '' && SPECIAL.has(frame.functionName);
    // A native frame is charged to its caller's module; a special one stands alone.
    const module = special ? frame.functionName : own === '(native)' ? (above && above.module !== '(root)' ? above.module : '(native)') : own;
    const stack = new Set(above?.stack ?? []);
    if (!special) stack.add(module);
    const entry = { label: frameLabel(frame, root), module, stack, idle: frame.functionName === '(idle)' };
    cache.set(id, entry);
    return entry;
  };
  let t = profile.startTime;
  const times = profile.timeDeltas.map((d) => (t += d));
  for (let i = 0; i < profile.samples.length; i++) {
    const at = (times[i]! - profile.startTime) / 1000;
    if (window && (at < window.fromMs || at > window.toMs)) continue;
    const next = i + 1 < times.length ? times[i + 1]! : times[i]!;
    const ms = (next - times[i]!) / 1000;
    const node = info(profile.samples[i]!);
    out.totalMs += ms;
    if (node.idle) {
      out.idleMs += ms;
      continue;
    }
    out.busyMs += ms;
    const fn = out.selfByFunction.get(node.label) ?? { ms: 0, module: node.module };
    fn.ms += ms;
    out.selfByFunction.set(node.label, fn);
    out.selfByModule.set(node.module, (out.selfByModule.get(node.module) ?? 0) + ms);
    for (const m of node.stack) out.inclusiveByModule.set(m, (out.inclusiveByModule.get(m) ?? 0) + ms);
  }
  return out;
}

const pct = (part: number, whole: number) => (whole > 0 ? ((part * 100) / whole).toFixed(1) : '0.0');

export function renderSummary(title: string, s: ProfileSummary, top: number): string {
  const lines = [`### ${title}`, '', `busy ${Math.round(s.busyMs)} ms of ${Math.round(s.totalMs)} ms sampled (idle ${Math.round(s.idleMs)} ms); shares are of busy time`, ''];
  lines.push('| self % | self ms | function | module |', '|---:|---:|---|---|');
  for (const [label, { ms, module }] of [...s.selfByFunction].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    lines.push(`| ${pct(ms, s.busyMs)} | ${Math.round(ms)} | \`${label.replace(/\|/g, '\\|')}\` | ${module} |`);
  }
  lines.push('', '| module | self % | self ms | inclusive % |', '|---|---:|---:|---:|');
  for (const [module, ms] of [...s.selfByModule].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`| ${module} | ${pct(ms, s.busyMs)} | ${Math.round(ms)} | ${pct(s.inclusiveByModule.get(module) ?? ms, s.busyMs)} |`);
  }
  return lines.join('\n');
}

function profileFiles(inputs: string[]): string[] {
  return inputs.flatMap((input) =>
    statSync(input).isDirectory()
      ? readdirSync(input).filter((f) => f.endsWith('.cpuprofile')).sort().map((f) => path.join(input, f))
      : [input],
  );
}

/** Node names its files CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main one. */
function threadOf(file: string): string {
  const m = /\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(path.basename(file));
  return m ? `pid ${m[1]} thread ${m[2]}` : path.basename(file);
}

/** What a load run's summary.json says of its CPU windows: each one's span on the monotonic clock. */
export interface RunWindows {
  measured?: { cpu?: Record<string, { monotonicUs?: { start: number; end: number } } | undefined> };
}

/**
 * A run's CPU window ('provisioning' or 'run') as milliseconds after a profile's start: both
 * are on CLOCK_MONOTONIC in microseconds (process.hrtime and V8's profile timestamps).
 */
export function windowOf(summary: RunWindows, which: string, profileStartUs: number, file = 'the summary'): { fromMs: number; toMs: number } {
  const span = summary.measured?.cpu?.[which]?.monotonicUs;
  if (!span) throw new Error(`${file} records no ${which} window on the monotonic clock (a summary of schema @3 from a fleet run)`);
  return { fromMs: (span.start - profileStartUs) / 1000, toMs: (span.end - profileStartUs) / 1000 };
}

function main(argv: string[]): void {
  const inputs: string[] = [];
  let top = 25;
  let window: { fromMs: number; toMs: number } | undefined;
  let absolute: { file: string; which: string; summary: RunWindows } | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--top') top = Number(argv[++i]);
    else if (arg === '--window') {
      const [from, to] = (argv[++i] ?? '').split(':').map(Number);
      if (!Number.isFinite(from) || !Number.isFinite(to) || to! <= from!) throw new Error('--window takes <from s>:<to s>, e.g. 10:40');
      window = { fromMs: from! * 1000, toMs: to! * 1000 };
    } else if (arg === '--window-from') {
      const [file, which = 'provisioning'] = (argv[++i] ?? '').split(':');
      absolute = { file: file!, which, summary: JSON.parse(readFileSync(file!, 'utf8')) as RunWindows };
    } else inputs.push(arg);
  }
  if (inputs.length === 0 || !Number.isInteger(top) || top < 1) {
    console.error('usage: node --import tsx scripts/cpuprofile-summary.ts <file.cpuprofile or dir>... [--top 25] [--window from:to seconds]');
    process.exitCode = 2;
    return;
  }
  const root = process.cwd();
  for (const file of profileFiles(inputs)) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const cut = absolute ? windowOf(absolute.summary, absolute.which, profile.startTime, absolute.file) : window;
    const summary = summarise(profile, root, cut);
    if (summary.busyMs === 0) continue;
    console.log(renderSummary(`${path.basename(file)} (${threadOf(file)})`, summary, top) + '\n');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
