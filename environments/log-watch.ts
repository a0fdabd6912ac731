// Asserting on a component's log: remember where the log ended, then wait for a line after it.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
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

/** What was written after the mark; reads only that part (logs grow over a whole run, polls are frequent). */
export function readSince(mark: LogMark): string {
  let fd: number | undefined;
  try {
    fd = openSync(mark.file, 'r');
    const length = Math.max(0, fstatSync(fd).size - mark.offset);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, mark.offset + read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
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
