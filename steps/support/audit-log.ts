// The provisioning service's audit log as records: one JSON object a line, written while steps
// read it, so only whole lines count.
import type { AuditRecord } from '../../simulators/client/admin-client.ts';

export function auditRecords(text: string): AuditRecord[] {
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditRecord);
}
