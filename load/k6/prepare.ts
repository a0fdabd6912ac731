// Fixtures for the k6 scripts: k6 can neither make CSRs nor sign JWTs conveniently, so this
// writes them ahead of a run, for one started lab.
//
//   bootstrap  N PEM CSRs for POST /api/v1/bootstrap (provisioning service, plain HTTP)
//   sign       N {csr, ott} pairs for step-ca's POST /1.0/sign; each ott is a one-time X5C token
//              signed with a bootstrap certificate of the lab (what a device sends for its
//              operational certificate)
//              signed with the lab's provisioning-service key, so each entry works exactly once
//   mqtt       N client certificates (CN K6-<i>) from the lab intermediate, plus one for the
//              managing application, and the root CA the broker's certificate chains to
//
// Everything goes flat into one directory (fixtures.json, root_ca.crt, K6-<i>.crt/.key, ...), so
// `kubectl create secret generic --from-file=<dir>` can carry it (load/k8s/README.md).
// The keys are test material: the directory is 0700 and every file 0600; never commit them.
//
// As a command it starts its own lab (the keys it needs exist only in the lab's process), opens
// the provisioning service for 127.0.0.1, writes the fixtures, prints the k6 commands and keeps
// the lab running until Ctrl-C:
//
//   node --import tsx load/k6/prepare.ts --count 200 [--out reports/perf/k6-fixtures] [--kinds bootstrap,sign,mqtt]
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type LabConfig } from '../../environments/config.ts';
import { startLocalLab, type StartedLocalLab } from '../../environments/local/local-environment.ts';
import { crlUrl } from '../../environments/pki/ca-json.ts';
import { issueLeaf } from '../../environments/pki/certificate-authority.ts';
import { createKeyAndCsr } from '../../environments/pki/csr.ts';
import { repoRoot } from '../../environments/tools/tools.ts';
import { ProvisioningAdminClient } from '../../services/provisioning/admin-client.ts';
import { signX5cToken } from '../../simulators/shared/x5c-sign.ts';

export const fixtureKinds = ['bootstrap', 'sign', 'mqtt'] as const;
export type FixtureKind = (typeof fixtureKinds)[number];

export interface PrepareOptions {
  /** Directory for fixtures.json and the certificate files; created 0700. */
  outDir: string;
  /** Entries per kind. */
  count: number;
  kinds?: readonly FixtureKind[];
  /** Lifetime of the one-time tokens; they must be used within it. */
  tokenTtlSeconds?: number;
}

/** The shape of fixtures.json, as the k6 scripts read it. File names are relative to its directory. */
export interface K6Fixtures {
  labId: string;
  createdAt: string;
  count: number;
  endpoints: { bootstrapUrl: string; caUrl: string; brokerUrl: string; rootCa: string };
  bootstrap?: Array<{ cn: string; csr: string }>;
  sign?: Array<{ cn: string; csr: string; ott: string }>;
  mqtt?: {
    topicRoot: string;
    app: { cn: string; cert: string; key: string };
    clients: Array<{ cn: string; cert: string; key: string }>;
  };
}

export interface PreparedFixtures {
  file: string;
  dir: string;
  fixtures: K6Fixtures;
}

/** Every fixture file is 0600 (writeFileSync's mode applies only when it creates the file). */
const writeSecret = (file: string, text: string) => {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
};

/** Writes fixtures.json (and certificate files) for the given lab; returns its path and content. */
export async function prepareK6Fixtures(lab: StartedLocalLab, config: LabConfig, options: PrepareOptions): Promise<PreparedFixtures> {
  const { count, tokenTtlSeconds = 1800 } = options;
  const kinds = new Set(options.kinds ?? fixtureKinds);
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer, got ${count}`);
  const dir = path.resolve(options.outDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const algorithm = config.pki.keyAlgorithm;
  const broker = new URL(lab.broker.url);

  writeSecret(path.join(dir, 'root_ca.crt'), readFileSync(lab.ca.rootPem, 'utf8'));
  const fixtures: K6Fixtures = {
    labId: lab.id,
    createdAt: new Date().toISOString(),
    count,
    endpoints: {
      bootstrapUrl: `${lab.provisioning.insecureUrl}/api/v1/bootstrap`,
      caUrl: lab.ca.url,
      brokerUrl: `mqtts://${broker.hostname}:${broker.port}`,
      rootCa: 'root_ca.crt',
    },
  };
  const indices = Array.from({ length: count }, (_, i) => i);

  if (kinds.has('bootstrap')) {
    fixtures.bootstrap = await Promise.all(
      indices.map(async (i) => ({ cn: `K6-BOOT-${i}`, csr: (await createKeyAndCsr({ commonName: `K6-BOOT-${i}` }, algorithm)).csrPem })),
    );
  }
  if (kinds.has('sign')) {
    // One bootstrap certificate from the issuing intermediate (the X5C provisioner's root) signs
    // every token; each token is still good once (its jti).
    const bootstrap = await issueLeaf(lab.pki.intermediate, {
      commonName: 'K6-X5C-BOOTSTRAP',
      extendedKeyUsages: ['clientAuth'],
      crlDistributionPoints: [crlUrl(config.ca, lab.stepCa.port)],
    });
    const pair = { privateKeyPem: bootstrap.privateKeyPem, certificateChainPem: `${bootstrap.certificatePem}\n${lab.pki.intermediate.certificatePem}\n` };
    fixtures.sign = await Promise.all(
      indices.map(async (i) => {
        const cn = `K6-SIGN-${i}`;
        const { csrPem } = await createKeyAndCsr({ commonName: cn }, algorithm);
        const ott = await signX5cToken({ provisioner: lab.ca.x5c.provisioner, audience: lab.ca.x5c.audience, bootstrap: pair, commonName: cn, sans: [cn], ttlSeconds: tokenTtlSeconds });
        return { cn, csr: csrPem, ott };
      }),
    );
  }
  if (kinds.has('mqtt')) {
    // The broker applies the issuing CA's CRL only to leaves naming it, so forged leaves name it too.
    const cdp = crlUrl(config.ca, lab.stepCa.port);
    const issue = async (cn: string) => {
      const leaf = await issueLeaf(lab.pki.intermediate, { commonName: cn, extendedKeyUsages: ['clientAuth'], crlDistributionPoints: [cdp], algorithm });
      writeSecret(path.join(dir, `${cn}.crt`), `${leaf.certificatePem}\n${lab.pki.intermediate.certificatePem}\n`);
      writeSecret(path.join(dir, `${cn}.key`), `${leaf.privateKeyPem}\n`);
      return { cn, cert: `${cn}.crt`, key: `${cn}.key` };
    };
    fixtures.mqtt = {
      topicRoot: config.broker.topicRoot,
      app: await issue(config.broker.applicationIdentity),
      clients: await Promise.all(indices.map((i) => issue(`K6-${i}`))),
    };
  }

  const file = path.join(dir, 'fixtures.json');
  writeSecret(file, JSON.stringify(fixtures));
  return { file, dir, fixtures };
}

/** All k6 traffic comes from 127.0.0.1: turn the provisioning service ON for that address only. */
export async function openProvisioningForK6(lab: StartedLocalLab, autoOffSeconds?: number): Promise<void> {
  const admin = new ProvisioningAdminClient(lab.provisioning.url, lab.provisioning.adminToken, readFileSync(lab.ca.rootPem, 'utf8'));
  await admin.turnOn(autoOffSeconds);
  await admin.setWhitelist(['127.0.0.1']);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join(repoRoot, 'reports/perf/k6-fixtures') },
      count: { type: 'string', default: '100' },
      kinds: { type: 'string', default: fixtureKinds.join(',') },
      'token-ttl': { type: 'string', default: '1800' },
    },
  });
  const kinds = values.kinds.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(fixtureKinds as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`unknown --kinds ${unknown.join(', ')}; choose from ${fixtureKinds.join(', ')}`);

  const config = loadConfig();
  const lab = await startLocalLab(config);
  const ttl = Number(values['token-ttl']);
  await openProvisioningForK6(lab, ttl);
  const prepared = await prepareK6Fixtures(lab, config, {
    outDir: path.join(values.out, lab.id),
    count: Number(values.count),
    kinds: kinds as FixtureKind[],
    tokenTtlSeconds: ttl,
  });
  mkdirSync(path.join(repoRoot, 'reports/perf'), { recursive: true }); // where the scripts' summaries go
  const env = `K6_NO_USAGE_REPORT=true K6_AUTO_EXTENSION_RESOLUTION=false SSL_CERT_FILE=${lab.ca.rootPem} FIXTURES=${prepared.file}`;
  process.stdout.write(
    `${JSON.stringify({ labId: lab.id, fixtures: prepared.file, ...prepared.fixtures.endpoints, adminUrl: lab.provisioning.url })}\n` +
      `# provisioning is ON for 127.0.0.1 for ${ttl} s; the lab runs until Ctrl-C. For example:\n` +
      `${env} .tools/bin/k6 run --address '' load/k6/bootstrap-endpoint.js\n`,
  );
  // startLocalLab stops the lab on SIGINT/SIGTERM; keep the process alive until then.
  setInterval(() => {}, 1 << 30);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((err: unknown) => {
    process.stderr.write(`prepare: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
