// ecm-lab run: the Gherkin scenarios against a local lab; cucumber writes its reports under reports/.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../environments/config.ts';
import { repoRoot } from '../../environments/tools/tools.ts';

export async function runCommand(global: { config?: string }, cucumberArgs: string[]): Promise<void> {
  // Validate the configuration here, so a bad file fails once with a clear message.
  loadConfig({ file: global.config });
  mkdirSync(path.join(repoRoot, 'reports/cucumber'), { recursive: true });
  const cucumber = path.join(repoRoot, 'node_modules/@cucumber/cucumber/bin/cucumber.js');
  const child = spawn(process.execPath, ['--import', 'tsx', cucumber, ...cucumberArgs], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, ...(global.config ? { ECM_LAB_CONFIG: path.resolve(global.config) } : {}) },
  });
  // Forward Ctrl-C / SIGTERM so cucumber's hooks stop the lab before we exit.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  console.log(`\nreports: ${path.join(repoRoot, 'reports/cucumber/report.html')}, logs under ${path.join(repoRoot, 'reports/logs')}`);
  process.exitCode = code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1);
}
