// Asserting on a component's log: remember where the log ended, then wait for a line after it.
import { readFileSync, statSync } from 'node:fs';
import { waitFor } from './wait.ts';

export interface LogMark {
  file: string;
  offset: number;
}

export function markLog(file: string): LogMark {
  let offset = 0;
  try {
    offset = statSync(file).size;
  } catch {
    // not written yet: everything in it will be new
  }
  return { file, offset };
}

export function readSince(mark: LogMark): string {
  try {
    return readFileSync(mark.file).subarray(mark.offset).toString('utf8');
  } catch {
    return '';
  }
}

/** Waits until a line written after `mark` matches `pattern`; returns that line. */
export function waitForLogLine(mark: LogMark, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  return waitFor(
    `a line matching ${pattern} in ${mark.file}`,
    () => readSince(mark).split('\n').find((line) => pattern.test(line)),
    { timeoutMs },
  );
}
