// NFR-PERF-001 for renewal: "certificate provisioning SHALL complete within 30 seconds", ACME
// renewal requests included. The client measures it (monotonic clock) from its request to the
// renewed certificate in its store: what a device waits, whichever certificate client it runs.
import assert from 'node:assert/strict';
import type { CertificateClient } from '../../simulators/client/certificate-client.ts';
import { inspectCertificate } from '../../x509/certificates.ts';
import type { LabWorld } from './world.ts';

export function assertRenewalWithin(world: LabWorld, client: CertificateClient, limitSeconds: number): void {
  const measuredMs = client.timings.renewalToStored;
  assert.ok(measuredMs !== undefined, `${client.commonName} measured no renewal`);
  // The measurement is the renewal whose certificate the store holds now.
  const stored = inspectCertificate(client.store.loadOperational()!.certificateChainPem).serialNumber;
  assert.equal(client.log.find('renewed').at(-1)?.serial, stored, 'the last renewal the client logged is not the certificate it stores');
  const limitMs = limitSeconds * 1000;
  world.attach(JSON.stringify({ requirement: 'NFR-PERF-001', client: client.commonName, driver: client.driver.kind, renewalToStoredMs: Math.round(measuredMs * 10) / 10, limitMs }, null, 1), { mediaType: 'application/json', fileName: 'renewal-latency.json' });
  assert.ok(measuredMs < limitMs, `the renewal took ${Math.round(measuredMs)} ms from request to stored certificate, over NFR-PERF-001's ${limitMs} ms`);
}
