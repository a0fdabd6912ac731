// Structured log of a simulated client (NFR-USE-002): certificate lifecycle events and
// connection failures by cause, as JSON lines. Entries carry reason codes, serials and dates —
// never certificate or key contents.
//
// Written asynchronously and in batches: every client of a thread that logs to one file shares
// one writer, which appends what gathered during a turn of the event loop in one write (a fleet
// of thousands appended 8 lines a device synchronously, each an open, a write and a close).
// Readers of the file wait for it with flushClientLogs().
import { appendFile } from 'node:fs/promises';

export interface ClientLogEntry {
  time: string;
  client: string;
  event: string;
  [field: string]: unknown;
}

/** One file's pending lines and the write in progress. */
class LogWriter {
  #pending: string[] = [];
  #writing: Promise<void> = Promise.resolve();
  #scheduled = false;
  /** The first error of a write (a log that cannot be written is reported at the next flush, never swallowed). */
  #failed: Error | undefined;

  constructor(private readonly file: string) {}

  add(line: string): void {
    this.#pending.push(line);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#write();
    });
  }

  #write(): void {
    if (this.#pending.length === 0) return;
    const chunk = this.#pending.join('');
    this.#pending = [];
    this.#writing = this.#writing.then(() => appendFile(this.file, chunk, { mode: 0o600 })).catch((err: Error) => {
      this.#failed ??= err;
    });
  }

  async flush(): Promise<void> {
    this.#write();
    await this.#writing;
    if (this.#failed) throw new Error(`client log ${this.file} could not be written: ${this.#failed.message}`);
  }
}

const writers = new Map<string, LogWriter>();

/** Resolves once every line logged so far in this thread is in its file. */
export async function flushClientLogs(): Promise<void> {
  await Promise.all([...writers.values()].map((w) => w.flush()));
}

export class ClientLog {
  readonly entries: ClientLogEntry[] = [];
  readonly #writer: LogWriter | undefined;

  constructor(
    private readonly client: string,
    file?: string,
  ) {
    if (file) {
      let writer = writers.get(file);
      if (!writer) writers.set(file, (writer = new LogWriter(file)));
      this.#writer = writer;
    }
  }

  write(event: string, fields: Record<string, unknown> = {}): ClientLogEntry {
    const entry: ClientLogEntry = { time: new Date().toISOString(), client: this.client, event, ...fields };
    this.entries.push(entry);
    this.#writer?.add(JSON.stringify(entry) + '\n');
    return entry;
  }

  find(event: string): ClientLogEntry[] {
    return this.entries.filter((e) => e.event === event);
  }
}
