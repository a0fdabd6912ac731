// Structured log of a simulated client (NFR-USE-002): certificate lifecycle events and
// connection failures by cause, as JSON lines. Entries carry reason codes, serials and dates —
// never certificate or key contents.
import { appendFileSync } from 'node:fs';

export interface ClientLogEntry {
  time: string;
  client: string;
  event: string;
  [field: string]: unknown;
}

export class ClientLog {
  readonly entries: ClientLogEntry[] = [];

  constructor(
    private readonly client: string,
    private readonly file?: string,
  ) {}

  write(event: string, fields: Record<string, unknown> = {}): ClientLogEntry {
    const entry: ClientLogEntry = { time: new Date().toISOString(), client: this.client, event, ...fields };
    this.entries.push(entry);
    if (this.file) appendFileSync(this.file, JSON.stringify(entry) + '\n', { mode: 0o600 });
    return entry;
  }

  find(event: string): ClientLogEntry[] {
    return this.entries.filter((e) => e.event === event);
  }
}
