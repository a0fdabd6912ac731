// The race between choosing a free port and binding it (a run once failed with "listen
// EADDRINUSE" starting the external CA): step-ca and Mosquitto, which bind what their config file
// says, start again on another port when another process took the chosen one; the lab's own
// processes bind port 0 themselves and report the port (the provisioning service's webhook
// socket is held from prepare() on, before step-ca's ca.json names it). The collision is forced:
// this test holds the port it hands out as the first "free" one.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseConfig } from '../../config/config.ts';
import { StepCaProcess } from '../../environments/local/step-ca-process.ts';
import { MosquittoProcess } from '../../environments/local/mosquitto-process.ts';
import { ServiceProcess } from '../../environments/local/service-process.ts';
import { freePort } from '../../environments/modules/ports.ts';
import { prepareProvisioningService } from '../../environments/modules/provisioning-service.ts';
import { LabAuthority } from '../../environments/pki/lab-authority.ts';
import { request } from '../../net/https-client.ts';
import { peerCertificateChain } from '../../net/peer-certificates.ts';

let dir: string;
let held: net.Server;
let heldPort: number;

/** Hands out the held port first, then free ones: the first start collides. */
function collidingSource(): { source: (host: string) => Promise<number>; handedOut: number[] } {
  const handedOut: number[] = [];
  return {
    handedOut,
    source: async (host) => {
      const port = handedOut.length === 0 ? heldPort : await freePort(host);
      handedOut.push(port);
      return port;
    },
  };
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ecm-ports-'));
  held = net.createServer();
  await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
  heldPort = (held.address() as net.AddressInfo).port;
});

after(() => {
  held.close();
  rmSync(dir, { recursive: true, force: true });
});

const acme = [{ type: 'ACME', name: 'acme' }];

test('step-ca: a chosen port taken by another process before step-ca binds it is replaced by another, and step-ca serves there', async () => {
  const { source, handedOut } = collidingSource();
  const logFile = path.join(dir, 'step-ca.log');
  await using ca = await new StepCaProcess().withProvisioners(acme).withFreePortSource(source).withDirectory(path.join(dir, 'step-ca')).withLogFile(logFile).start();
  assert.equal(handedOut[0], heldPort, 'the first start was given the held port');
  assert.notEqual(ca.getPort(), heldPort);
  assert.equal(ca.getPort(), handedOut.at(-1));
  // step-ca's own log holds the first attempt's refusal, then the second's listener.
  const log = readFileSync(logFile, 'utf8');
  assert.match(log, new RegExp(`listen tcp 127\\.0\\.0\\.1:${heldPort}: bind: address already in use`));
  assert.match(log, new RegExp(`Serving HTTPS on 127\\.0\\.0\\.1:${ca.getPort()} \\.\\.\\.`));
  const health = await request(`${ca.getCaUrl()}/health`, { ca: ca.getRootPem() });
  assert.equal(health.json<{ status: string }>().status, 'ok');
});

test('step-ca on a port given explicitly: no other port is tried, the failure names the taken port', async () => {
  const logFile = path.join(dir, 'step-ca-fixed.log');
  await assert.rejects(
    new StepCaProcess().withProvisioners(acme).withAddress('127.0.0.1', heldPort).withDirectory(path.join(dir, 'step-ca-fixed')).withLogFile(logFile).withReadinessTimeout(10_000).start(),
    (err: Error & { output?: string }) => /gave up waiting for step-ca/.test(err.message) && new RegExp(`127\\.0\\.0\\.1:${heldPort}: bind: address already in use`).test(err.output ?? ''),
  );
  assert.equal(readFileSync(logFile, 'utf8').match(/address already in use/g)?.length, 1, 'one attempt only');
});

test('Mosquitto: a chosen port taken meanwhile is replaced by another; the broker completes a mutual-TLS handshake there', async () => {
  const authority = await LabAuthority.create(parseConfig({}).pki, path.join(dir, 'pki'));
  const server = await authority.serverCertificate();
  const { writeFileSync } = await import('node:fs');
  const serverCert = path.join(dir, 'server.crt');
  const serverKey = path.join(dir, 'server.key');
  writeFileSync(serverCert, server.certificateChainPem);
  writeFileSync(serverKey, server.privateKeyPem, { mode: 0o600 });
  const { source, handedOut } = collidingSource();
  const logFile = path.join(dir, 'mosquitto.log');
  await using broker = await new MosquittoProcess()
    .withMutualTls({ caBundle: authority.files.caBundle, serverCert, serverKey })
    .withFreePortSource(source)
    .withDirectory(path.join(dir, 'mosquitto'))
    .withLogFile(logFile)
    .start();
  assert.equal(handedOut[0], heldPort);
  assert.ok(![broker.getPort(), broker.getLegacyPort()].includes(heldPort), `ports ${broker.getPort()}/${broker.getLegacyPort()}`);
  const log = readFileSync(logFile, 'utf8');
  assert.match(log, new RegExp(`Opening ipv4 listen socket on port ${heldPort}\\.\\n.*Error: Address already in use`));
  assert.match(log, /mosquitto version \S+ running/);
  const client = await authority.clientCertificate('port-test', 'https://localhost:1/1.0/crl');
  const chain = await peerCertificateChain({ host: '127.0.0.1', port: broker.getPort(), ca: authority.pki.root.certificatePem, cert: client.certificateChainPem, key: client.privateKeyPem });
  assert.ok(chain.length >= 1, 'the broker presented its certificate');
});

test('the provisioning service holds its webhook port from prepare() on: nobody else can bind it before the service listens', async () => {
  const host = await new ServiceProcess().withDataDir(path.join(dir, 'service')).withLogFile(path.join(dir, 'service.log')).start();
  const prepared = await prepareProvisioningService(host, {
    dataDir: path.join(dir, 'service'),
    keyAlgorithm: 'ecdsa-p256',
    provisioner: 'provisioning-service',
    readinessTimeoutMs: 20_000,
    hooks: { host: '127.0.0.1', port: 0 },
    serverNames: { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
  });
  try {
    assert.ok(prepared.hooksPort > 0, 'it reports the port it bound');
    const intruder = net.createServer();
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      intruder.once('error', resolve);
      intruder.listen(prepared.hooksPort, '127.0.0.1', () => resolve(undefined));
    });
    intruder.close();
    assert.equal(error?.code, 'EADDRINUSE', 'the port is the service\'s already');
  } finally {
    await prepared.stop();
  }
});
