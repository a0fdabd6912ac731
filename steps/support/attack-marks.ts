// Where the system stood when an attack began (every component log the suite reads, the audit
// log's clock, the inventory), so that the refusal's cause is read from what the refusing
// component wrote after that moment, and what the attack got back.
import type { AuditRecord, InventoryEntry } from '../../simulators/client/admin-client.ts';
import type { AttemptOutcome } from '../../simulators/adversary/issuance-attempts.ts';
import { escapeRegExp, markLog, readSince, waitFor, waitForLogLine, type LogMark } from './logs.ts';
import { auditRecords } from './audit-log.ts';
import { COMPONENT_LOGS, type ComponentLog, type ScenarioBase } from './scenario-base.ts';

interface Marks {
  logs: Record<string, LogMark>;
  auditSince: string;
  /** Where the service's audit log file stood; absent when the installation names no such file. */
  auditLog: LogMark | undefined;
  /** The inventory's serials; absent when the attack began while the service was down. */
  inventory: Set<string> | undefined;
}

export class AttackMarks {
  /** What the last attack got back. */
  outcome: AttemptOutcome | undefined;
  #marks: Marks | undefined;

  constructor(private readonly scenario: ScenarioBase) {}

  /** Marks every component log the suite can read, the audit log's clock and the inventory. */
  async begin(): Promise<void> {
    const { session, admin } = this.scenario;
    const logs = Object.fromEntries(Object.values(session.evidence).filter((e) => COMPONENT_LOGS.includes(e.component as ComponentLog)).map((e) => [e.component, markLog(e.path)]));
    // An attack may run while the service is down (then nothing can be asked of its inventory).
    const inventory = session.owned?.provisioningService.running !== false ? new Set((await admin.inventory()).map((c) => c.serial)) : undefined;
    const auditLogFile = session.lab.provisioning.auditLogFile;
    this.#marks = { logs, auditSince: new Date().toISOString(), auditLog: auditLogFile ? markLog(auditLogFile) : undefined, inventory };
  }

  /** Runs an attack between begin() and its outcome. */
  async run(attempt: () => Promise<AttemptOutcome>): Promise<AttemptOutcome> {
    await this.begin();
    this.outcome = await attempt();
    return this.outcome;
  }

  private get marks(): Marks {
    if (!this.#marks) throw new Error('no attack was started in this scenario');
    return this.#marks;
  }

  /** Where a component's log stood when the attack began. */
  mark(component: ComponentLog): LogMark {
    const { logs } = this.marks;
    this.scenario.logFile(component);
    return logs[component]!;
  }

  /** The line a component wrote about the attack, containing `text`. */
  logged(component: ComponentLog, text: string): Promise<string> {
    return this.loggedMatching(component, new RegExp(escapeRegExp(text)));
  }

  /** The line a component wrote about the attack, matching `pattern`. */
  async loggedMatching(component: ComponentLog, pattern: RegExp): Promise<string> {
    const line = await waitForLogLine(this.mark(component), pattern);
    this.scenario.attach(line, { mediaType: 'text/plain', fileName: `${component}.txt` });
    return line;
  }

  /** The provisioning service's audit record of a refusal with this reason, written during the attack. */
  async audited(reason: string): Promise<AuditRecord> {
    const since = this.marks.auditSince;
    const record = await waitFor(
      `an audit record refusing with reason ${reason}`,
      async () => (await this.scenario.admin.audit(200)).find((r) => r.time >= since && r.decision === 'refused' && r.reason === reason),
      { timeoutMs: 5000 },
    );
    this.scenario.attach(JSON.stringify(record), { mediaType: 'application/json', fileName: 'audit.json' });
    return record;
  }

  /**
   * The service's audit record matching `predicate`, written since the attack began, read from its
   * log file: the admin API shows only the newest records, and a busy lab may push one out of them.
   */
  async auditedInFile(what: string, predicate: (r: AuditRecord) => boolean): Promise<AuditRecord> {
    const mark = this.marks.auditLog;
    if (!mark) throw new Error("the installation names no audit log file of the provisioning service (its evidence 'provisioning-audit')");
    const record = await waitFor(`${what} in ${mark.file} after offset ${mark.offset}`, () => auditRecords(readSince(mark)).find(predicate), { timeoutMs: 5000 });
    this.scenario.attach(JSON.stringify(record), { mediaType: 'application/json', fileName: 'audit.json' });
    return record;
  }

  /** Certificates the inventory gained since the attack began. */
  async issued(): Promise<InventoryEntry[]> {
    const before = this.#marks?.inventory;
    if (!before) throw new Error('no attack was started in this scenario while the provisioning service ran');
    return (await this.scenario.admin.inventory()).filter((c) => !before.has(c.serial));
  }
}
