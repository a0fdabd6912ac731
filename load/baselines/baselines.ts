// Baselines measured in the same run as the fleet, so performance claims are ratios rather than
// machine-dependent absolutes: step-ca signing alone, MQTT throughput of Mosquitto's own clients
// against the lab's mqtt.js path on the same broker and TLS configuration; the CPU each side
// spends on a mutual-TLS connection is handshake-baseline.ts.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import type { OwnedLab } from '../../environments/lab.ts';
import { markLog, waitForLogLine } from '../../environments/log-watch.ts';
import { crlUrl } from '../../environments/pki/ca-json.ts';
import { issueLeaf } from '../../x509/certificate-authority.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { locateTool } from '../../environments/tools/tools.ts';
import { request } from '../../net/https-client.ts';
import { stepCaErrorDetail } from '../../net/step-ca-api.ts';
import { deviceSan } from '../../simulators/device/device-identity.ts';
import { loopbackAddress } from '../../simulators/client/addresses.ts';
import { signX5cToken } from '../../simulators/client/x5c-sign.ts';
import { connectMqtt } from '../../net/mqtt-connection.ts';
import { CpuMeter } from '../cpu-meter.ts';
import { LatencyHistograms } from '../../evidence/perf/latency-histograms.ts';
import type { Baselines } from '../../evidence/perf/summary-schema.ts';

/** Addresses the baseline's bootstrap credentials name (never bound: nothing is sent from them). */
const BASELINE_BLOCK = 119;

/** Runs work(0..count-1), at most `concurrency` at a time; resolves with the elapsed milliseconds. */
export async function inParallel(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  const limit = pLimit(concurrency);
  await Promise.all(Array.from({ length: count }, (_, i) => limit(() => work(i))));
  return performance.now() - start;
}

/**
 * step-ca's own cost: N X5C signatures (what a device asks for) with CSRs and one-time tokens
 * made beforehand, each signed by a bootstrap credential of its own from the bootstrap
 * intermediate (one credential buys one identity); `concurrency` in flight. Each signature
 * includes step-ca's call of the service's identity webhook, as every real one does.
 */
export async function measureCaSigning(lab: OwnedLab, requests: number, concurrency: number): Promise<NonNullable<Baselines['caSigning']>> {
  const prepared = await Promise.all(
    Array.from({ length: requests }, async (_, i) => {
      const address = loopbackAddress(i, BASELINE_BLOCK);
      const bootstrap = await issueLeaf(lab.pki.bootstrapIntermediate, { commonName: address, ipAddresses: [address], extendedKeyUsages: ['clientAuth'] });
      const pair = { privateKeyPem: bootstrap.privateKeyPem, certificateChainPem: `${bootstrap.certificatePem}\n${lab.pki.bootstrapIntermediate.certificatePem}\n` };
      const cn = `BASELINE-${i}`;
      const sans = [deviceSan(cn)];
      const { csrPem } = await createKeyAndCsr({ commonName: cn, uris: sans }, lab.config.pki.keyAlgorithm);
      const ott = await signX5cToken({ provisioner: lab.ca.x5c.provisioner, audience: lab.ca.x5c.audience, bootstrap: pair, commonName: cn, sans, ttlSeconds: 600 });
      return JSON.stringify({ csr: csrPem, ott });
    }),
  );
  const rootPem = lab.pki.root.certificatePem;
  const histograms = new LatencyHistograms();
  // step-ca is both authorities, here as everywhere (the bootstrap one is idle in this baseline).
  const cpu = new CpuMeter(() => ({ stepCa: [lab.stepCa.pid, lab.bootstrapStepCa.pid], mosquitto: [], provisioningService: [] }));
  const elapsedMs = await inParallel(requests, concurrency, async (i) => {
    const t = performance.now();
    const res = await request(`${lab.ca.url}/1.0/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: prepared[i]!, ca: rootPem });
    if (res.status !== 201 && res.status !== 200) throw new Error(`step-ca refused baseline signature ${i}: HTTP ${res.status} ${stepCaErrorDetail(res.text())}`);
    histograms.record('x5cSign', performance.now() - t);
  });
  return {
    requests,
    concurrency,
    perSec: Math.round((requests * 1000) / elapsedMs),
    latencyMs: histograms.summary('x5cSign'),
    stepCaCpuMsPerCert: Math.round((cpu.totals().stepCa / requests) * 1000) / 1000,
  };
}

function payload(i: number): string {
  // The size of a device's telemetry message, so both sides move the same bytes.
  return JSON.stringify({ deviceId: 'BASELINE-PUB', seq: i, sentAt: 1_700_000_000_000 + i, firmwareVersion: '2.1', readings: { heartRate: 72 } });
}

async function baselineCredentials(lab: OwnedLab, dir: string) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const crl = [crlUrl(lab.config.ca, lab.stepCa.port)];
  const publisher = await issueLeaf(lab.pki.intermediate, { commonName: 'BASELINE-PUB', extendedKeyUsages: ['clientAuth'], crlDistributionPoints: crl });
  const subscriber = await issueLeaf(lab.pki.intermediate, { commonName: lab.config.broker.applicationIdentity, extendedKeyUsages: ['clientAuth'], crlDistributionPoints: crl });
  const files = {
    root: path.join(dir, 'root.crt'),
    pubCert: path.join(dir, 'pub.crt'),
    pubKey: path.join(dir, 'pub.key'),
    subCert: path.join(dir, 'sub.crt'),
    subKey: path.join(dir, 'sub.key'),
  };
  const chain = (pem: string) => `${pem}\n${lab.pki.intermediate.certificatePem}\n`;
  writeFileSync(files.root, lab.pki.root.certificatePem);
  writeFileSync(files.pubCert, chain(publisher.certificatePem));
  writeFileSync(files.pubKey, publisher.privateKeyPem, { mode: 0o600 });
  writeFileSync(files.subCert, chain(subscriber.certificatePem));
  writeFileSync(files.subKey, subscriber.privateKeyPem, { mode: 0o600 });
  return { files, publisher, subscriber, chain };
}

type BaselineCredentials = Awaited<ReturnType<typeof baselineCredentials>>;

/**
 * Both MQTT throughput baselines are timed over the same span: from both clients connected (the
 * subscriber subscribed) to the last message received. Starting Mosquitto's publisher process
 * and its TLS handshake are outside the span, as the lab clients' connections are.
 */
export async function timedFromConnected(run: { connected: Promise<unknown>; publish(): void; lastMessage: Promise<unknown> }, now: () => number = () => performance.now()): Promise<number> {
  await run.connected;
  const start = now();
  run.publish();
  await run.lastMessage;
  return now() - start;
}

/**
 * The same messages through Mosquitto's own clients, then through the lab's, on the same broker
 * with the same publisher and subscriber identities (issued once, written for the Mosquitto tools).
 */
export async function measureMqttThroughput(lab: OwnedLab, messages: number, dir: string): Promise<Pick<Baselines, 'mosquittoClients' | 'labClients'>> {
  const credentials = await baselineCredentials(lab, dir);
  const mosquittoClients = await measureMosquittoClients(lab, messages, credentials);
  const labClients = await measureLabClients(lab, messages, credentials);
  return { mosquittoClients, labClients };
}

/** Resolves once `stream` has carried `lines` newlines (mosquitto_sub prints one line per message). */
function countLines(stream: NodeJS.ReadableStream, lines: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    stream.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) if (++seen === lines) resolve();
    });
    stream.on('end', () => (seen < lines ? reject(new Error(`mosquitto_sub printed ${seen}/${lines} messages`)) : resolve()));
  });
}

/**
 * Mosquitto's own clients: mosquitto_sub waits for M messages that mosquitto_pub sends from
 * stdin at QoS 0 (mosquitto_pub at QoS 1 with -l disconnects before everything is acknowledged).
 * The clock starts once the broker logged the publisher's connection (its stdin still empty) and
 * stops at the subscriber's M-th printed message.
 */
async function measureMosquittoClients(lab: OwnedLab, messages: number, { files }: BaselineCredentials): Promise<NonNullable<Baselines['mosquittoClients']>> {
  const topic = `${lab.config.broker.topicRoot}/BASELINE-PUB/telemetry`;
  const tls = ['-h', lab.broker.host, '-p', String(lab.broker.port), '--cafile', files.root];
  const mark = markLog(lab.mosquitto.logFile);
  const sub = spawn(locateTool('mosquitto_sub'), [...tls, '--cert', files.subCert, '--key', files.subKey, '-i', 'baseline-sub', '-t', topic, '-q', '0', '-C', String(messages)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let pub: ReturnType<typeof spawn> | undefined;
  const timeout = setTimeout(() => sub.kill('SIGTERM'), 60_000);
  try {
    const received = countLines(sub.stdout!, messages);
    received.catch(() => undefined); // awaited below, after the clock started
    // Ready when the broker has the subscription (log_type subscribe), not after a guess.
    // The broker names the subscriber by its certificate's identity (use_username_as_clientid).
    await waitForLogLine(mark, new RegExp(`^\\S+ ${lab.config.broker.applicationIdentity} 0 .*telemetry`, 'm'), 10_000);
    const lines = Array.from({ length: messages }, (_, i) => payload(i)).join('\n') + '\n';
    const connectedMark = markLog(lab.mosquitto.logFile);
    pub = spawn(locateTool('mosquitto_pub'), [...tls, '--cert', files.pubCert, '--key', files.pubKey, '-i', 'baseline-pub', '-t', topic, '-q', '0', '-l'], { stdio: ['pipe', 'ignore', 'pipe'] });
    const publisher = pub;
    const elapsedMs = await timedFromConnected({
      connected: waitForLogLine(connectedMark, / as BASELINE-PUB \(/, 10_000),
      publish: () => publisher.stdin!.end(lines),
      lastMessage: received,
    });
    return { messages, elapsedMs: Math.round(elapsedMs), perSec: Math.round((messages * 1000) / elapsedMs) };
  } finally {
    clearTimeout(timeout);
    pub?.kill('SIGTERM');
    sub.kill('SIGTERM');
  }
}

/** The lab's path for the same messages: mqtt.js publisher and subscriber, QoS 0, Nagle off; the same span. */
async function measureLabClients(lab: OwnedLab, messages: number, { publisher, subscriber, chain }: BaselineCredentials): Promise<NonNullable<Baselines['labClients']>> {
  const topic = `${lab.config.broker.topicRoot}/BASELINE-PUB/telemetry`;
  const common = { host: lab.broker.host, port: lab.broker.port, trustedRootPem: lab.pki.root.certificatePem };
  const sub = await connectMqtt({ ...common, clientId: 'baseline-lab-sub', certificateChainPem: chain(subscriber.certificatePem), privateKeyPem: subscriber.privateKeyPem });
  let pub: Awaited<ReturnType<typeof connectMqtt>> | undefined;
  try {
    let received = 0;
    const done = new Promise<void>((resolve) => sub.on('message', () => ++received === messages && resolve()));
    const lastMessage = Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`lab clients got ${received}/${messages} messages in 60 s`)), 60_000).unref())]);
    lastMessage.catch(() => undefined); // awaited by timedFromConnected
    const payloads = Array.from({ length: messages }, (_, i) => payload(i));
    const connected = (async () => {
      await sub.subscribeAsync(topic, { qos: 0 });
      pub = await connectMqtt({ ...common, clientId: 'baseline-lab-pub', certificateChainPem: chain(publisher.certificatePem), privateKeyPem: publisher.privateKeyPem });
    })();
    const elapsedMs = await timedFromConnected({
      connected,
      publish: () => {
        for (const message of payloads) pub!.publish(topic, message, { qos: 0 });
      },
      lastMessage,
    });
    return { messages, elapsedMs: Math.round(elapsedMs), perSec: Math.round((messages * 1000) / elapsedMs) };
  } finally {
    await Promise.allSettled([sub.endAsync(), pub?.endAsync()]);
  }
}
