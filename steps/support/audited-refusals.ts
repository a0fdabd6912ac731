// A refusal's cause as the refusing component recorded it: the provisioning service's audit
// record for the client's own address, written after the request began, with the expected reason
// code. What the client's error text says is the client's reading, not evidence of the cause.
import assert from 'node:assert/strict';
import { waitFor } from '../../environments/wait.ts';
import type { AuditRecord } from '../../services/provisioning/audit-log.ts';
import type { CertificateClient } from '../../simulators/client/certificate-client.ts';
import type { AttemptedRequest } from './scenario-facts.ts';
import type { LabWorld } from './world.ts';

/** The reason codes the service audits, by the words a scenario uses for them. */
const AUDITED_REASONS: Record<string, string> = {
  'the service is OFF': 'service-off',
  'the address is not on the white list': 'not-whitelisted',
};

export function auditedReason(words: string): string {
  const reason = AUDITED_REASONS[words];
  assert.ok(reason, `unknown refusal "${words}"; known: ${Object.keys(AUDITED_REASONS).join(', ')}`);
  return reason;
}

export async function attempt(work: () => Promise<unknown>): Promise<AttemptedRequest> {
  const since = new Date().toISOString();
  const error = await work().then(() => undefined, (err: Error) => err);
  return { since, error };
}

/**
 * The service's audit record refusing `client` (from any address its requests come from) with
 * `reason` since the request began; attached to the report.
 */
export async function auditedRefusal(world: LabWorld, client: CertificateClient, request: AttemptedRequest, reason: string): Promise<AuditRecord> {
  assert.ok(request.error, 'the request was served, but it must be refused');
  const sources = world.sourceAddressesOf(client);
  const mine = (r: AuditRecord) => r.time >= request.since && r.decision === 'refused' && sources.includes(String(r.sourceIp));
  const record = await waitFor(`the service's audit record refusing ${sources.join(' or ')} since ${request.since}`, async () => (await world.admin.audit(200)).find(mine), { timeoutMs: 5000 }).catch(async (err: Error) => {
    throw new Error(`${err.message}; the client was told: ${request.error!.message}`);
  });
  assert.equal(record.reason, reason, `the service refused ${client.commonName} for another reason: ${JSON.stringify(record)}`);
  world.attach(JSON.stringify(record, null, 1), { mediaType: 'application/json', fileName: 'audit.json' });
  return record;
}
