// Reading Mosquitto's log for one client's evidence, and turning its debug log on for a while.
// - Mosquitto 2.0 logs a refused publish ("Denied PUBLISH from <id> (...)") at the debug level
//   only, which the lab leaves off (every PUBLISH would be logged). log_type is re-read on SIGHUP,
//   so a scenario turns it on for itself and restores the configuration afterwards.
// - A refused TLS handshake is logged either in one line, "Client connection from <addr> failed:
//   <reason>." (when the accept itself fails), or on the lines after "New connection from
//   <addr>:<port>", without the address; connectionLines() returns the lines of one address.
import { readFileSync, writeFileSync } from 'node:fs';
import { readSince, type LogMark } from '../log-watch.ts';
import { waitFor } from '../wait.ts';

export interface ReloadableBroker {
  configFile: string;
  /** Resolves once the broker runs on the re-read configuration. */
  reload(): Promise<void>;
}

/** Adds `log_type debug` and reloads; returns the restore function (idempotent). */
export async function enableBrokerDebugLog(broker: ReloadableBroker): Promise<() => Promise<void>> {
  const original = readFileSync(broker.configFile, 'utf8');
  writeFileSync(broker.configFile, `${original.trimEnd()}\n# temporarily added by a scenario\nlog_type debug\n`, { mode: 0o600 });
  await broker.reload();
  let restored: Promise<void> | undefined;
  return () => {
    restored ??= (async () => {
      writeFileSync(broker.configFile, original, { mode: 0o600 });
      await broker.reload();
    })();
    return restored;
  };
}

/**
 * The log lines of the connection(s) from `address` after `mark`: each "Client connection from
 * <address> failed" line, and from each "New connection from <address>:" up to the next
 * "New connection from" line.
 */
export function connectionLines(mark: LogMark, address: string): string[] {
  const lines = readSince(mark).split('\n');
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.includes('New connection from ')) inside = line.includes(`New connection from ${address}:`);
    if (inside || line.includes(`Client connection from ${address} failed`)) out.push(line);
  }
  return out;
}

/** Waits until a line of `address`'s connection matches `pattern`; returns that line. */
export function waitForConnectionLine(mark: LogMark, address: string, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  return waitFor(
    `a line matching ${pattern} for the connection from ${address} in ${mark.file}`,
    () => connectionLines(mark, address).find((line) => pattern.test(line)),
    { timeoutMs },
  );
}
