// The CA's own limit: step-ca alone serves each device's whole flow — ACME http-01 at the
// bootstrap authority (account, order, challenge, finalize, download) and the X5C sign at the
// operational one — from keys and CSRs made beforehand, `concurrency` devices at a time. The
// service takes part only as step-ca's webhooks, as in every real flow. The fleet's devices per
// second over this baseline's is the "fraction of the CA's own limit" the report shows.
import os from 'node:os';
import * as jose from 'jose';
import pLimit from 'p-limit';
import type { StartedLocalLab } from '../../environments/local/local-environment.ts';
import { request } from '../../net/https-client.ts';
import { createKeyAndCsr } from '../../x509/csr.ts';
import { stepCaErrorDetail } from '../../net/step-ca-api.ts';
import { ProvisioningAdminClient } from '../../simulators/client/admin-client.ts';
import type { ChallengePublisher } from '../../simulators/acme/http01-responder.ts';
import { RawAcmeClient } from '../../simulators/adversary/acme-raw.ts';
import { clientHttpsAgent } from '../../simulators/client/acme-bootstrap.ts';
import { loopbackAddress } from '../../simulators/client/addresses.ts';
import { signX5cToken } from '../../simulators/client/x5c-sign.ts';
import { deviceSan } from '../../simulators/device/device-identity.ts';
import { CpuMeter } from '../cpu-meter.ts';
import { LatencyHistograms } from '../../evidence/perf/latency-histograms.ts';
import type { Baselines } from '../../evidence/perf/summary-schema.ts';

/** The baseline devices' addresses (bound: step-ca validates http-01 on each). */
export const CA_FLOW_BLOCK = 117;

interface PreparedDevice {
  address: string;
  identity: string;
  accountKey: { privateKey: CryptoKey; jwk: jose.JWK };
  bootstrap: { privateKeyPem: string; csrPem: string };
  operational: { csrPem: string };
}

async function prepare(lab: StartedLocalLab, i: number): Promise<PreparedDevice> {
  const address = loopbackAddress(i, CA_FLOW_BLOCK);
  const identity = `BASELINE-FLOW-${i}`;
  const pair = await jose.generateKeyPair('ES256', { extractable: true });
  const bootstrap = await createKeyAndCsr({ commonName: address, ipAddresses: [address] }, lab.config.pki.keyAlgorithm);
  const operational = await createKeyAndCsr({ commonName: identity, uris: [deviceSan(identity)] }, lab.config.pki.keyAlgorithm);
  return { address, identity, accountKey: { privateKey: pair.privateKey, jwk: await jose.exportJWK(pair.publicKey) }, bootstrap, operational: { csrPem: operational.csrPem } };
}

async function flow(lab: StartedLocalLab, responder: ChallengePublisher, d: PreparedDevice): Promise<void> {
  const bootstrapRoot = lab.pki.bootstrapRoot.certificatePem;
  const agent = clientHttpsAgent(d.address, bootstrapRoot);
  try {
    const acme = new RawAcmeClient({ directoryUrl: lab.bootstrapCa.acmeDirectoryUrl, trustedCaPem: bootstrapRoot, localAddress: d.address, agent, accountKey: d.accountKey, pollIntervalMs: 20 });
    await acme.createAccount();
    const order = await acme.readyOrder(responder);
    const chain = await acme.finalizeAndDownload(order, d.bootstrap.csrPem);
    const sans = [deviceSan(d.identity)];
    const ott = await signX5cToken({ provisioner: lab.ca.x5c.provisioner, audience: lab.ca.x5c.audience, bootstrap: { privateKeyPem: d.bootstrap.privateKeyPem, certificateChainPem: chain }, commonName: d.identity, sans });
    const res = await request(`${lab.ca.url}/1.0/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csr: d.operational.csrPem, ott }), ca: lab.pki.root.certificatePem, localAddress: d.address });
    if (res.status !== 201 && res.status !== 200) throw new Error(`step-ca refused the baseline's X5C sign for ${d.identity}: HTTP ${res.status} ${stepCaErrorDetail(res.text())}`);
  } finally {
    agent.destroy();
  }
}

export async function measureCaFlow(lab: StartedLocalLab, responder: ChallengePublisher, devices: number, concurrency: number): Promise<NonNullable<Baselines['caFlow']>> {
  // step-ca's acme-window webhook admits only white-listed addresses while the service is ON.
  const admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, lab.pki.root.certificatePem);
  await admin.turnOn();
  await admin.setWhitelist([`${loopbackAddress(0, CA_FLOW_BLOCK)}-${loopbackAddress(devices - 1, CA_FLOW_BLOCK)}`]);
  const prepared = await Promise.all(Array.from({ length: devices }, (_, i) => prepare(lab, i)));
  const histograms = new LatencyHistograms();
  const cpu = new CpuMeter(() => ({ stepCa: [lab.stepCa.pid, lab.bootstrapStepCa.pid], mosquitto: [], provisioningService: [lab.provisioningService.pid] }));
  const limit = pLimit(concurrency);
  const start = performance.now();
  await Promise.all(
    prepared.map((d) =>
      limit(async () => {
        const t = performance.now();
        await flow(lab, responder, d);
        histograms.record('caFlow', performance.now() - t);
      }),
    ),
  );
  const elapsedMs = performance.now() - start;
  const used = cpu.totals();
  const perDevice = (ms: number) => Math.round((ms / devices) * 1000) / 1000;
  const stepCaCpuMsPerDevice = perDevice(used.stepCa);
  return {
    devices,
    concurrency,
    perSec: Math.round((devices * 1000 * 100) / elapsedMs) / 100,
    latencyMs: histograms.summary('caFlow'),
    stepCaCpuMsPerDevice,
    provisioningServiceCpuMsPerDevice: perDevice(used.provisioningService),
    labCpuMsPerDevice: perDevice(used.lab),
    cpuBoundPerSec: stepCaCpuMsPerDevice > 0 ? Math.round((os.cpus().length * 1000 * 10) / stepCaCpuMsPerDevice) / 10 : 0,
  };
}
