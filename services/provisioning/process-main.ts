// The provisioning service as its own process: prepared, started and stopped by the lab over the
// IPC channel (process-protocol.ts), or, in a container, over a unix socket it listens on
// (ECM_LAB_RPC_SOCKET, in the work directory the lab mounts at the same path). It exits when the
// lab goes away (the channel closes), so it can never outlive it.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import type { KeyAlgorithm } from '../../x509/keys.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { orderIntermediate } from '../../net/external-ca-api.ts';
import { createServiceSigningKey, type ServiceSigningKey } from './signing-key.ts';
import { RpcPeer, type Channel } from '../../net/rpc.ts';
import { socketChannel } from '../../net/rpc-socket.ts';
import { EXTERNAL_CA_CLIENT_KEY_FILE, type LabHooksApi, type ServiceProcessApi } from './process-protocol.ts';
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

/** A signing key made once and kept in the data directory (0600), so a restarted service has the same one. */
async function ownKey(dataDir: string, file: string, name: string): Promise<ServiceSigningKey> {
  const where = path.join(dataDir, file);
  if (existsSync(where)) return JSON.parse(readFileSync(where, 'utf8')) as ServiceSigningKey;
  const key = await createServiceSigningKey(name);
  writeFileSync(where, JSON.stringify(key), { mode: 0o600 });
  chmodSync(where, 0o600);
  return key;
}

/**
 * The JWK is kept, so a restarted service signs with the key step-ca's ca.json names (and orders
 * at the external CA with the key it knows); the TLS key is new for every process.
 */
async function prepare(dataDir: string, keyAlgorithm: KeyAlgorithm, provisioner: string, serverNames: { dnsNames: string[]; ipAddresses: string[] }, externalCaClient?: string) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const jwk = await ownKey(dataDir, 'jwk.json', provisioner);
  const externalCaKey = externalCaClient ? await ownKey(dataDir, EXTERNAL_CA_CLIENT_KEY_FILE, externalCaClient) : undefined;
  const { privateKeyPem, csrPem } = await createKeyAndCsr({ commonName: serverNames.dnsNames[0] ?? serverNames.ipAddresses[0]!, ...serverNames }, keyAlgorithm);
  return { jwk, externalCaKey, tlsKeyPem: privateKeyPem, csrPem };
}

/**
 * The webhook listener's socket, bound before step-ca is configured with its URL and taken over by
 * the listener at start. Nothing is served on it before: a connection that arrives early is closed.
 */
function bindHooksSocket(host: string, port: number): Promise<net.Server> {
  const socket = net.createServer((early) => early.destroy());
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.listen({ host, port }, () => resolve(socket));
  });
}

let hooksSocket: net.Server | undefined;

let service: StartedProvisioningService | undefined;
let own: { jwk: ServiceSigningKey; externalCaKey: ServiceSigningKey | undefined; tlsKeyPem: string } | undefined;

function externalCaKey(): ServiceSigningKey {
  if (!own?.externalCaKey) throw new Error('this service was prepared without a credential at an external CA');
  return own.externalCaKey;
}

/**
 * The lab's channel, and how to close it: the fork's IPC channel, or the first connection to the
 * RPC socket (only the lab, which owns the work directory, can reach it: the socket is 0600).
 */
async function labChannel(): Promise<{ channel: Channel; disconnect(): void; onDisconnect(listener: () => void): void }> {
  const socketPath = process.env.ECM_LAB_RPC_SOCKET;
  if (!socketPath) {
    return {
      channel: { send: (message) => process.send?.(message) ?? false, onMessage: (listener) => process.on('message', listener) },
      disconnect: () => process.disconnect(),
      onDisconnect: (listener) => process.on('disconnect', listener),
    };
  }
  // The socket lives in the service's data directory, which the service makes (0700).
  mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  rmSync(socketPath, { force: true });
  const server = net.createServer();
  const connected = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve, reject) => server.listen(socketPath, resolve).once('error', reject));
  chmodSync(socketPath, 0o600);
  // The readiness line its container waits for (environments/containers/provisioning-service-container.ts).
  console.log(`listening for the lab on ${socketPath}`);
  const socket = await connected;
  // One lab per process: nobody else may connect once it has.
  server.close();
  rmSync(socketPath, { force: true });
  const channel = socketChannel(socket);
  return { channel, disconnect: () => channel.end(), onDisconnect: (listener) => channel.onClose(listener) };
}

const { channel, disconnect, onDisconnect } = await labChannel();

const lab: RpcPeer<ServiceProcessApi, LabHooksApi> = new RpcPeer<ServiceProcessApi, LabHooksApi>(
  channel,
  {
    async prepare({ dataDir, keyAlgorithm, provisioner, externalCaClient, hooks, serverNames }) {
      const prepared = await prepare(dataDir, keyAlgorithm, provisioner, serverNames, externalCaClient);
      own = { jwk: prepared.jwk, externalCaKey: prepared.externalCaKey, tlsKeyPem: prepared.tlsKeyPem };
      hooksSocket = await bindHooksSocket(hooks.host, hooks.port);
      const hooksPort = (hooksSocket.address() as net.AddressInfo).port;
      return { publicJwk: prepared.jwk.publicJwk, csrPem: prepared.csrPem, externalCaClientJwk: prepared.externalCaKey?.publicJwk, hooksPort };
    },
    async orderIntermediate(order) {
      const ordered = await orderIntermediate({ ...order, privateJwk: externalCaKey().privateJwk });
      console.log(`ordered an intermediate at the external CA ${order.apiUrl}: serial ${ordered.serial}`);
      return ordered;
    },
    async start({ options, certificateChainPem, extraCrls }) {
      if (!own) throw new Error('start before prepare');
      service = await startProvisioningService({
        ...options,
        hooksSocket,
        tls: { certificateChainPem, privateKeyPem: own.tlsKeyPem },
        ca: { ...options.ca, privateJwk: own.jwk.privateJwk },
        bootstrapCa: { ...options.bootstrapCa, privateJwk: own.jwk.privateJwk },
        externalCa: options.externalCa && { ...options.externalCa, privateJwk: externalCaKey().privateJwk },
        // The lab keeps step-ca's key: it makes the new one and installs what the external CA signed.
        issuingCa: options.externalCa && {
          newCsr: () => lab.call('intermediateCsr').then((r) => r.csrPem),
          install: (input) => lab.call('installIntermediate', input),
        },
        extraCrls: () => extraCrls,
        // The revocation and the enrolment answer only after the lab has acted on them.
        onRevoked: (event) => lab.call('revoked', event),
        onApplicationEnrolled: (identity) => lab.call('applicationEnrolled', { identity }),
        onLegacyCredential: (change) => lab.call('legacyCredential', change),
      });
      console.log(`ecm-lab provisioning service (for testing, not for production) on ${service.url}, plain HTTP ${service.insecureUrl}, webhooks ${service.hooksUrl}`);
      const { url, insecureUrl, hooksUrl, acmeDirectoryUrl, adminToken, auditLogFile } = service;
      return { url, insecureUrl, hooksUrl, acmeDirectoryUrl, adminToken, auditLogFile };
    },
    issuedSerials: ({ issuer }) => service?.issuedSerials(issuer) ?? Promise.resolve([]),
    async stop() {
      await service?.stop();
      await writeProfile();
      // Disconnect after the answer has left.
      setImmediate(() => disconnect());
    },
  },
);

onDisconnect(() => {
  lab.close('the lab closed the channel');
  process.exit();
});
