// One exit-code scheme for every ecm-lab command, so a pipeline can tell "the system under test
// failed" from "the command line was wrong" from "the lab could not run". The CLI reference
// (docs/reference/cli.md) is generated from EXIT_CODES.
export const EXIT = {
  ok: 0,
  failed: 1,
  badInput: 2,
  couldNotRun: 3,
  interrupted: 130,
  terminated: 143,
} as const;

export const EXIT_CODES: ReadonlyArray<{ code: number; meaning: string }> = [
  { code: EXIT.ok, meaning: 'done: every scenario passed, every threshold was met, the contract was met, nothing differs' },
  { code: EXIT.failed, meaning: 'a test failed: a scenario, a load threshold, a contract status, a `doctor` check, the evidence pages; `report diff`: the two reports differ' },
  {
    code: EXIT.badInput,
    meaning: "bad input of any kind, said in one line: an unknown command or option, a missing or invalid option value (commander's own errors too), a bad config or target file, durations that do not parse, arguments cucumber-js refuses, reports that cannot be merged",
  },
  { code: EXIT.couldNotRun, meaning: 'the lab could not run: a missing tool, a component that did not start or died, no container engine, an unexpected error (the message says which)' },
  { code: EXIT.interrupted, meaning: 'interrupted (Ctrl-C, SIGINT); `load` and `contract` still write their partial report' },
  { code: EXIT.terminated, meaning: 'stopped by SIGTERM' },
];

/** Bad input found by a command itself (beyond what commander checks): printed as one line, exit 2. */
export class BadInput extends Error {
  override name = 'BadInput';
}
