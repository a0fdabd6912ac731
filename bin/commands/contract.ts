// ecm-lab contract: replays the provisioning service's contract (services/provisioning/openapi.yaml)
// against a target's service, or against a reference lab it starts and stops itself.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { EXIT } from '../exit-codes.ts';
import { startLab } from '../../environments/start-lab.ts';
import { loadTarget, TargetError } from '../../conformance/target/target.ts';
import { loadContract } from '../../conformance/contract/document.ts';
import { replayContract } from '../../conformance/contract/replay.ts';
import { formatResult, summarize, writeContractReport } from '../../conformance/contract/report.ts';
import { ReplayAddresses } from '../../conformance/contract/session.ts';
import { AddressPlanError } from '../../simulators/client/addresses.ts';
import { contractTargetFromFile, contractTargetFromLab, type ContractTarget } from '../../conformance/contract/target.ts';

export interface ContractCliOptions {
  target?: string;
  out: string;
  /** The result on stdout as JSON (the written report, with the exit code); the progress on stderr. */
  json?: boolean;
}

export const CONTRACT_HELP = `
Every (path, method, status) the document lists is produced against the service by a recipe and
checked: status, media type, body against its schema, error code against x-codes. Statuses whose
x-needs the replay cannot meet are listed as "not run: needs <what>" (e.g. ca-down, race).
The replay changes the service's state (ON/OFF, white list) and restores it at the end.
Report: <out>/<target name>/contract.json (no admin token, no key).
Exit codes: 0 the service meets the contract, 1 a documented status failed (or the service's state
could not be restored), 2 an invalid target, 3 the reference lab could not start, 130 interrupted.
`;

/** `ownLab`: the lab is this process's, stopped on Ctrl-C by itself: nothing to restore then. */
async function replayAndReport(target: ContractTarget, opts: ContractCliOptions, ownLab = false): Promise<number> {
  const document = loadContract();
  const controller = new AbortController();
  const interrupt = () => {
    console.error(`ecm-lab contract: interrupted; ${ownLab ? 'stopping the reference lab' : 'restoring the service state'}`);
    controller.abort();
  };
  process.once('SIGINT', interrupt);
  const startedAt = new Date();
  const say = opts.json ? console.error : console.log;
  try {
    console.error(`replaying ${path.relative(process.cwd(), document.file)} against ${target.name} (${target.url})`);
    const replay = await replayContract(target, { document, signal: controller.signal, onResult: (r, i, total) => say(formatResult(r, i, total)) });
    const file = writeContractReport(opts.out, { targetName: target.name, document, replay, startedAt, finishedAt: new Date(), secrets: [target.adminToken] });
    const s = summarize(replay.results);
    if (!(ownLab && controller.signal.aborted)) for (const problem of replay.restoreProblems) console.error(`ecm-lab contract: could not restore the service: ${problem}`);
    say(`${s.passed} passed, ${s.failed} failed, ${s.notRun} not run (of ${s.total}); report ${file}`);
    const code = controller.signal.aborted ? EXIT.interrupted : s.failed > 0 || replay.restoreProblems.length > 0 ? EXIT.failed : EXIT.ok;
    if (opts.json) console.log(JSON.stringify({ schema: 'ecm-lab/contract-result@1', exitCode: code, report: file, ...(JSON.parse(readFileSync(file, 'utf8')) as object) }));
    return code;
  } finally {
    process.removeListener('SIGINT', interrupt);
  }
}

export async function contractCommand(global: { config?: string }, opts: ContractCliOptions): Promise<void> {
  if (opts.target) {
    let target: ContractTarget;
    try {
      target = contractTargetFromFile(loadTarget(opts.target));
      // The replay's addresses must split into listed and unlisted ones: said now, not mid-replay.
      new ReplayAddresses(target.clientAddresses);
    } catch (err) {
      if (!(err instanceof TargetError) && !(err instanceof AddressPlanError)) throw err;
      console.error(`ecm-lab: ${err.message}`);
      process.exitCode = EXIT.badInput;
      return;
    }
    process.exitCode = await replayAndReport(target, opts);
    return;
  }
  const config = loadConfig({ file: global.config });
  console.error('no --target: starting the reference lab (two step-ca authorities, Mosquitto, the provisioning service)...');
  // The lab stops itself on SIGINT/SIGTERM too (stopOnSignal).
  const lab = await startLab(config);
  try {
    process.exitCode = await replayAndReport(contractTargetFromLab(lab, config.broker.applicationIdentity), opts, true);
  } finally {
    console.error('stopping the reference lab...');
    await lab.stop();
  }
}
