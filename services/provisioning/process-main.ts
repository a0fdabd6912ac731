// The provisioning service as its own process: started, fed CRLs and stopped by the lab over
// the IPC channel (process-protocol.ts). It exits when the lab goes away (the channel closes),
// so it can never outlive it.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import type { KeyAlgorithm } from '../../environments/config.ts';
import { createKeyAndCsr } from '../../environments/pki/csr.ts';
import { createServiceSigningKey, type ServiceSigningKey } from '../../environments/pki/lab-pki.ts';
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
let own: { jwk: ServiceSigningKey; tlsKeyPem: string } | undefined;

/**
 * The JWK is made once and kept in the data directory (0600), so a restarted service signs with
 * the key step-ca's ca.json names; the TLS key is new for every process.
 */
async function prepare(dataDir: string, keyAlgorithm: KeyAlgorithm, provisioner: string): Promise<{ jwk: ServiceSigningKey; tlsKeyPem: string; csrPem: string }> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'jwk.json');
  let jwk: ServiceSigningKey;
  if (existsSync(file)) {
    jwk = JSON.parse(readFileSync(file, 'utf8')) as ServiceSigningKey;
  } else {
    jwk = await createServiceSigningKey(provisioner);
    writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  const { privateKeyPem, csrPem } = await createKeyAndCsr({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, keyAlgorithm);
  return { jwk, tlsKeyPem: privateKeyPem, csrPem };
}
let nextId = 0;
const crlAcks = new Map<number, () => void>();

process.on('disconnect', () => process.exit());

function fail(err: Error): void {
  send({ type: 'failed', message: err.message });
  process.exitCode = 1;
  process.disconnect();
}

process.on('message', (message: ToServiceProcess) => {
  switch (message.type) {
    case 'prepare':
      prepare(message.dataDir, message.keyAlgorithm, message.provisioner).then(
        ({ jwk, tlsKeyPem, csrPem }) => {
          own = { jwk, tlsKeyPem };
          send({ type: 'prepared', publicJwk: jwk.publicJwk, csrPem });
        },
        (err: Error) => fail(err),
      );
      break;
    case 'start':
      if (!own) return fail(new Error('start before prepare'));
      startProvisioningService({
        ...message.options,
        tls: { certificateChainPem: message.certificateChainPem, privateKeyPem: own.tlsKeyPem },
        ca: { ...message.options.ca, privateJwk: own.jwk.privateJwk },
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
        (err: Error) => fail(err),
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
