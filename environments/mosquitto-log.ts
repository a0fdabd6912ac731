// Reading Mosquitto's log for one client's evidence, and turning its debug log on for a while.
// - Mosquitto 2.0 logs a refused publish ("Denied PUBLISH from <id> (...)") at the debug level
//   only, which the lab leaves off (every PUBLISH would be logged). log_type is re-read on SIGHUP,
//   so a scenario turns it on for itself and restores the configuration afterwards.
// - A refused TLS handshake is logged either in one line, "Client connection from <addr> failed:
//   <reason>." (when the accept itself fails), or on the lines after "New connection from
//   <addr>:<port>", without the address; connectionLines() returns the lines of one address.
import { readFileSync, writeFileSync } from 'node:fs';
import { readSince, type LogMark } from './log-watch.ts';
import { waitFor } from './wait.ts';

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

/** The log lines of the connection(s) from `address` after `mark` (connectionLinesOf). */
export function connectionLines(mark: LogMark, address: string): string[] {
  return connectionLinesOf(readSince(mark).split('\n'), address);
}

// Mosquitto names the address on "New connection from <addr>:<port>", on "New client connected
// from <addr>:<port> as <id>" and on a failed accept; a refused handshake's OpenSSL lines and its
// "Client <unknown> disconnected" name none.
const OPENED = /New connection from (\S+?):\d+/;
const CONNECTED = /New client connected from (\S+?):\d+ as /;
const ENDED = /Client <unknown> (disconnected|closed its connection)/;

/**
 * The lines of `address`'s connections: each "Client connection from <address> failed" line, and
 * from each "New connection from <address>:" up to the line that ends it (its "New client
 * connected", a "Client <unknown> disconnected"/"closed its connection", or its next attempt).
 * Connections of other addresses that open meanwhile (the lab's reload probe, another device) do
 * not end the window: their own lines name them and are left out, and while one of them is still
 * unresolved a "Client <unknown>" line may be either's, so it counts as theirs and the window
 * stays open (an OpenSSL line after it may still be this connection's).
 */
export function connectionLinesOf(lines: readonly string[], address: string): string[] {
  const out: string[] = [];
  let open = false;
  let othersPending = 0;
  for (const line of lines) {
    if (line.includes(`Client connection from ${address} failed`)) {
      out.push(line);
      continue;
    }
    const opened = OPENED.exec(line)?.[1];
    if (opened !== undefined) {
      if (opened === address) {
        open = true;
        othersPending = 0;
        out.push(line);
      } else if (open) othersPending++;
      continue;
    }
    if (!open) continue;
    const connected = CONNECTED.exec(line)?.[1];
    if (connected !== undefined && connected !== address) {
      othersPending = Math.max(0, othersPending - 1);
      continue;
    }
    out.push(line);
    if (connected !== undefined) open = false;
    else if (ENDED.test(line)) {
      if (othersPending > 0) othersPending--;
      else open = false;
    }
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
