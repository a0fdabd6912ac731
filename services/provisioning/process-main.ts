// The provisioning service as its own process: started, fed CRLs and stopped by the lab over
// the IPC channel (process-protocol.ts). It exits when the lab goes away (the channel closes),
// so it can never outlive it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import type { FromServiceProcess, ToServiceProcess } from './process-protocol.ts';
import { startProvisioningService, type StartedProvisioningService } from './server.ts';

// ECM_LAB_PROFILE_DIR=<dir>: a V8 CPU profile of this process, written when it is stopped, for
// finding what saturates under load (Node refuses --cpu-prof in NODE_OPTIONS).
const profileDir = process.env.ECM_LAB_PROFILE_DIR;
const profiler = profileDir ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
async function writeProfile(): Promise<void> {
  if (!profiler || !profileDir) return;
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(path.join(profileDir, `provisioning-service-${process.pid}.cpuprofile`), JSON.stringify(profile));
}

const send = (message: FromServiceProcess) => process.send?.(message);
let service: StartedProvisioningService | undefined;
let nextId = 0;
const crlAcks = new Map<number, () => void>();

process.on('disconnect', () => process.exit());

process.on('message', (message: ToServiceProcess) => {
  switch (message.type) {
    case 'start':
      startProvisioningService({
        ...message.options,
        extraCrls: () => message.extraCrls,
        // The lab writes the broker's CRL file and reloads it; the revocation answers only after.
        onCrlUpdated: (crlPem) =>
          new Promise<void>((resolve) => {
            const id = nextId++;
            crlAcks.set(id, resolve);
            send({ type: 'crl-updated', id, crlPem });
          }),
      }).then(
        (started) => {
          service = started;
          const { url, insecureUrl, acmeDirectoryUrl, adminToken, auditLogFile } = started;
          send({ type: 'ready', endpoints: { url, insecureUrl, acmeDirectoryUrl, adminToken, auditLogFile } });
        },
        (err: Error) => {
          send({ type: 'failed', message: err.message });
          process.exitCode = 1;
          process.disconnect();
        },
      );
      break;
    case 'issued-serials':
      void service?.issuedSerials().then((serials) => send({ type: 'issued-serials-result', id: message.id, serials }));
      break;
    case 'crl-updated-done':
      crlAcks.get(message.id)?.();
      crlAcks.delete(message.id);
      break;
    case 'stop':
      void (service?.stop() ?? Promise.resolve()).then(writeProfile).finally(() => {
        send({ type: 'stopped' });
        process.disconnect();
      });
      break;
  }
});
