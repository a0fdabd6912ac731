// The CPU one mutual-TLS MQTT connection costs the client and the broker, in the same run: the
// lab's client (mqtt.js on Node's TLS), or the native connect generator (ecm-connect, Go's
// crypto/tls), or both one after the other on the same broker (`--handshake-client`).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OwnedLab } from '../../environments/lab.ts';
import { crlUrl } from '../../environments/pki/ca-json.ts';
import { ownCpuMs } from '../../environments/local/process-cpu.ts';
import { issueLeaf } from '../../x509/certificate-authority.ts';
import { connectMqtt, TlsIdentity } from '../../net/mqtt-connection.ts';
import { CpuMeter } from '../cpu-meter.ts';
import { LatencyHistograms } from '../../evidence/perf/latency-histograms.ts';
import type { HandshakeBaseline, HandshakeClient } from '../../evidence/perf/summary-schema.ts';
import { inParallel } from './baselines.ts';
import { nativeConnectPlan, removeIdentities, runNativeConnect, writeIdentities, type NativeFailure } from './native-handshakes.ts';

/** `connections` distinct device certificates from the operational intermediate, issued before anything is timed. */
async function handshakeIdentities(lab: OwnedLab, connections: number, prefix: string) {
  const crl = [crlUrl(lab.config.ca, lab.stepCa.port)];
  const leaves = await Promise.all(
    Array.from({ length: connections }, (_, i) => issueLeaf(lab.pki.intermediate, { commonName: `${prefix}-${i}`, extendedKeyUsages: ['clientAuth'], crlDistributionPoints: crl })),
  );
  return leaves.map((leaf, i) => ({ clientId: `${prefix.toLowerCase()}-${i}`, chainPem: `${leaf.certificatePem}\n${lab.pki.intermediate.certificatePem}\n`, keyPem: leaf.privateKeyPem }));
}

const perConnection = (ms: number, connections: number) => Math.round((ms / connections) * 1000) / 1000;

/**
 * The lab's client: each connecting (handshake, chain, CRL and EKU checks, CONNECT/CONNACK) and
 * disconnecting, `concurrency` at a time. The lab process does nothing else meanwhile. Each
 * certificate is loaded into its TLS context before the clock starts, as a device loads it once
 * when it gets it (and as the broker loaded its own): that load is measured apart (labCpuMsPerContext).
 */
async function nodeHandshakes(lab: OwnedLab, connections: number, concurrency: number): Promise<HandshakeBaseline> {
  const identities = await handshakeIdentities(lab, connections, 'BASELINE-HS');
  const histograms = new LatencyHistograms();
  const common = { host: lab.broker.host, port: lab.broker.port, trustedRootPem: lab.pki.root.certificatePem };
  const loading = ownCpuMs();
  const contexts = identities.map((id) => new TlsIdentity({ ca: common.trustedRootPem, cert: id.chainPem, key: id.keyPem }));
  const contextMs = ownCpuMs() - loading;
  // The meter, not a difference of two readings: a broker that restarted meanwhile would make
  // that difference negative.
  const cpu = new CpuMeter(() => ({ stepCa: [], mosquitto: [lab.mosquitto.pid], provisioningService: [] }));
  const elapsedMs = await inParallel(connections, concurrency, async (i) => {
    const t = performance.now();
    const identity = contexts[i]!;
    const client = await connectMqtt({ ...common, clientId: identities[i]!.clientId, certificateChainPem: identity.input.cert, privateKeyPem: identity.input.key, tlsIdentity: identity });
    histograms.record('firstConnack', performance.now() - t);
    await client.endAsync();
  });
  const used = cpu.totals();
  return {
    client: 'node',
    connections,
    concurrency,
    perSec: Math.round((connections * 1000) / elapsedMs),
    latencyMs: histograms.summary('firstConnack'),
    labCpuMsPerHandshake: perConnection(used.lab, connections),
    brokerCpuMsPerHandshake: perConnection(used.mosquitto, connections),
    labCpuMsPerContext: perConnection(contextMs, connections),
  };
}

/** Failures in one line each, the first few: the broker's refusal or the client's, as ecm-connect saw it. */
export function describeFailures(failures: NativeFailure[], max = 5): string {
  const shown = failures.slice(0, max).map((f) => `${f.clientId}: ${f.stage}: ${f.reason}`);
  return shown.join('; ') + (failures.length > max ? `; and ${failures.length - max} more` : '');
}

/**
 * The native client: the same work by ecm-connect, its certificates written 0600 to the lab's
 * work directory for it and removed afterwards. Its CPU is its process's over the broker's window
 * (the meter starts when it has loaded every certificate and stops at its result).
 */
async function nativeHandshakes(lab: OwnedLab, connections: number, concurrency: number): Promise<HandshakeBaseline> {
  const dir = path.join(lab.workDir, 'native-handshakes');
  try {
    const identities = writeIdentities(dir, await handshakeIdentities(lab, connections, 'BASELINE-NHS'));
    const caFile = path.join(dir, 'root.crt');
    writeFileSync(caFile, lab.pki.root.certificatePem);
    let cpu: CpuMeter | undefined;
    let used: ReturnType<CpuMeter['totals']> | undefined;
    const run = await runNativeConnect(nativeConnectPlan(lab.broker, caFile, identities, concurrency), dir, {
      binDir: lab.config.toolsBinDir,
      onStart: () => (cpu = new CpuMeter(() => ({ stepCa: [], mosquitto: [lab.mosquitto.pid], provisioningService: [] }))),
      onEnd: () => (used = cpu!.totals()),
    });
    const r = run.result;
    if (r.failed > 0) throw new Error(`native handshake baseline: ${r.failed} of ${r.connections} connections failed: ${describeFailures(r.failures)}`);
    const histograms = new LatencyHistograms();
    for (const ms of r.connackLatencyMs) histograms.record('firstConnack', ms);
    return {
      client: 'native',
      connections,
      concurrency,
      perSec: Math.round((connections * 1000) / r.elapsedMs),
      latencyMs: histograms.summary('firstConnack'),
      labCpuMsPerHandshake: perConnection(run.processCpuMs, connections),
      brokerCpuMsPerHandshake: perConnection(used!.mosquitto, connections),
      labCpuMsPerContext: perConnection(r.contextCpuMs.total, connections),
      selfReportedCpuMsPerHandshake: perConnection(r.cpuMs.total, connections),
      negotiated: r.negotiated,
    };
  } finally {
    removeIdentities(dir);
  }
}

/** The handshake baseline made by `client`; the figures of both clients come from the same broker. */
export function measureHandshakes(lab: OwnedLab, connections: number, concurrency: number, client: HandshakeClient = 'node'): Promise<HandshakeBaseline> {
  return client === 'native' ? nativeHandshakes(lab, connections, concurrency) : nodeHandshakes(lab, connections, concurrency);
}
