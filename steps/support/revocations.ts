// The engineer revokes clients' operational certificates one by one; each revocation begins the
// attack marks (the broker's reaction is read from its log after it) and times how long the broker
// took to close that client's connection.
import type { CertificateClient } from '../../simulators/client/certificate-client.ts';
import { inspectCertificate } from '../../x509/certificates.ts';
import type { AttackMarks } from './attack-marks.ts';
import { waitFor } from './logs.ts';
import type { ScenarioBase } from './scenario-base.ts';

export class Revocations {
  /** The clients revoked in this scenario: when, and how long until the broker closed their connection. */
  readonly revoked = new Map<CertificateClient, { at: number; disconnectMs?: number }>();

  constructor(private readonly scenario: ScenarioBase, private readonly attack: AttackMarks) {}

  /** Revokes a client's current operational certificate by its serial (the attack marks start here). */
  async revoke(client: CertificateClient): Promise<void> {
    const serial = inspectCertificate(client.store.loadOperational()!.certificateChainPem).serialNumber;
    await this.attack.begin();
    this.revoked.set(client, { at: performance.now() });
    await this.scenario.admin.revoke(serial, 'keyCompromise');
  }

  /** Waits until the broker has closed a revoked client's connection; returns how long that took after the revocation. */
  async disconnected(client: CertificateClient, timeoutMs: number): Promise<number> {
    const revocation = this.revoked.get(client);
    if (!revocation) throw new Error(`${client.commonName} was not revoked in this scenario`);
    const closedAt = await waitFor(`the broker to close ${client.commonName}'s connection`, () => client.disconnectedAt.find((t) => t >= revocation.at), { timeoutMs });
    revocation.disconnectMs = closedAt - revocation.at;
    return revocation.disconnectMs;
  }
}
