// The reference provisioning service (seed 001 FR-PS-001..004, NFR-USE-001/002): a gated ACME
// front door to step-ca, a plain-HTTP bootstrap endpoint, revocation, inventory and an
// authenticated admin API and page. Two listeners: HTTPS for everything, plain HTTP for the
// bootstrap endpoint only (the "insecure channel" of FR-PS-004).
import { randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { decodeProtectedHeader, type JWK } from 'jose';
import { z } from 'zod';
import { acmeProblem, forwardToCa, hostIsGate, isHopByHop } from './acme-gate.ts';
import { adminPageHtml } from './admin-page.ts';
import { AuditLog, type AuditEvent } from './audit-log.ts';
import { checkCsr, type CsrPolicy } from './csr-policy.ts';
import { certificateState, Inventory, normalizeSerial, type CertificateRecord } from './inventory.ts';
import { ServiceState, ServiceStateError, type Clock, type ServiceStateEvent } from './service-state.ts';
import { REVOCATION_REASONS, StepCaClient, StepCaError, type RevocationReason } from './step-ca-client.ts';
import { WhitelistError } from './whitelist.ts';
import { createKeyAndCsr } from '../../environments/pki/csr.ts';
import { TLS12_CIPHERS } from '../../environments/tls-policy.ts';

export interface ProvisioningServiceOptions {
  host?: string;
  /** 0 picks a free port. */
  httpsPort?: number;
  httpPort?: number;
  tls: { certificateChainPem: string; privateKeyPem: string };
  ca: { url: string; rootPem: string; audienceHost: string; jwkProvisioner: string; privateJwk: JWK; acmeProvisioner: string };
  /** inventory.sqlite, state.json and audit.log live here and survive a restart. */
  dataDir: string;
  /** Generated when absent; printed once by `ecm-lab up`, never logged. */
  adminToken?: string;
  csrPolicy?: Partial<CsrPolicy>;
  /** seed 004 "serverkeygen": the service generates the key. Off by default. */
  serverKeyGen?: boolean;
  /** Certificates expiring within this many seconds are reported as "expiring". */
  expiringWithinSeconds?: number;
  /** CRLs beyond step-ca's own that clients need to check whole chains (root CRL, retired intermediates). */
  extraCrls?: () => string[];
  /** Called with the CA's fresh CRL after every revocation (the lab writes it for the broker). */
  onCrlUpdated?: (crlPem: string) => Promise<void>;
  clock?: Clock;
}

export interface StartedProvisioningService {
  /** HTTPS: ACME gate, bootstrap, admin API and page. */
  url: string;
  /** Plain HTTP: the bootstrap endpoint only. */
  insecureUrl: string;
  acmeDirectoryUrl: string;
  adminToken: string;
  auditLogFile: string;
  /** Serials (hex) of every certificate in the inventory, for a retiring CA's final CRL. */
  issuedSerials(): Promise<string[]>;
  stop(): Promise<void>;
}

const stateBody = z.object({ enabled: z.boolean(), autoOffSeconds: z.number().positive().optional() }).strict();
const whitelistBody = z.object({ entries: z.array(z.string()) }).strict();
const revocationBody = z
  .object({
    serial: z.string().regex(/^(0x)?[0-9a-fA-F:]+$/, 'serial must be hexadecimal'),
    reason: z.enum(Object.keys(REVOCATION_REASONS) as [RevocationReason, ...RevocationReason[]]).default('unspecified'),
  })
  .strict();

const PEM_TYPES = ['application/pkcs10', 'application/x-pem-file'];

function sourceIp(req: FastifyRequest): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function tokensEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Serial of the bootstrap certificate an X5C sign request's token carries (its x5c[0]), read
 * without verifying anything: step-ca verifies the token; this only looks the serial up.
 */
function x5cLeafSerial(body: unknown): string | undefined {
  const ott = (body as { ott?: unknown } | null)?.ott;
  if (typeof ott !== 'string') return undefined;
  try {
    const leaf = decodeProtectedHeader(ott).x5c?.[0];
    return leaf === undefined ? undefined : normalizeSerial(new X509Certificate(Buffer.from(leaf, 'base64')).serialNumber);
  } catch {
    return undefined;
  }
}

function describeRecord(record: CertificateRecord, now: number, expiringWithinMs: number) {
  const { pem: _pem, ...rest } = record;
  return { ...rest, state: certificateState(record, now, expiringWithinMs) };
}

export async function startProvisioningService(options: ProvisioningServiceOptions): Promise<StartedProvisioningService> {
  const host = options.host ?? '127.0.0.1';
  const adminToken = options.adminToken ?? randomBytes(32).toString('base64url');
  const expiringWithinMs = (options.expiringWithinSeconds ?? 7 * 24 * 3600) * 1000;
  const clock = options.clock;
  const now = () => (clock ? clock.now() : Date.now());
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const stateFile = path.join(options.dataDir, 'state.json');
  const auditLogFile = path.join(options.dataDir, 'audit.log');

  const audit = new AuditLog({ file: auditLogFile });
  const inventory = Inventory.open(path.join(options.dataDir, 'inventory.sqlite'));
  const stepCa = new StepCaClient({
    caUrl: options.ca.url,
    rootPem: options.ca.rootPem,
    audienceHost: options.ca.audienceHost,
    provisioner: options.ca.jwkProvisioner,
    privateJwk: options.ca.privateJwk,
  });

  // Every state change is audited and persisted (atomically), so ON/OFF, the white list and the
  // auto-off deadline survive a restart of the service (NFR-REL-002). Persisting subscribes once
  // the state exists: fromJSON's own events (restored, disabled) come before that.
  const audited = (event: ServiceStateEvent) => audit.write({ event: `state-${event.type}`, decision: 'info', ...event });
  const serviceState = existsSync(stateFile)
    ? ServiceState.fromJSON(JSON.parse(readFileSync(stateFile, 'utf8')), { clock, listener: audited })
    : new ServiceState({ clock, listener: audited });
  const persist = () => {
    const tmp = `${stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(serviceState.toJSON()), { mode: 0o600 });
    renameSync(tmp, stateFile);
  };
  serviceState.subscribe(persist);
  persist();

  function refuse(reply: FastifyReply, req: FastifyRequest, event: string, decision: { reason: string; message: string }, extra: Partial<AuditEvent> = {}) {
    audit.write({ event, decision: 'refused', sourceIp: sourceIp(req), reason: decision.reason, message: decision.message, ...extra });
    return reply.code(403).send({ error: decision.reason, message: decision.message });
  }

  function recordIssued(chainPem: string, deviceId: string, kind: 'bootstrap' | 'operational', req: FastifyRequest, event: string) {
    const record = inventory.record(chainPem, { deviceId, kind });
    audit.write({ event, decision: 'served', sourceIp: sourceIp(req), serial: record.serial, deviceId, notAfter: record.notAfter.toISOString() });
    return record;
  }

  async function handleBootstrap(req: FastifyRequest, reply: FastifyReply) {
    const decision = serviceState.decide(sourceIp(req));
    if (!decision.allowed) return refuse(reply, req, 'bootstrap', decision);
    // No body, or no content type (Fastify leaves the body undefined): nothing to check.
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
      const message = 'the request carries no CSR: send a PEM or DER CSR as application/pkcs10 or application/x-pem-file';
      audit.write({ event: 'bootstrap', decision: 'refused', sourceIp: sourceIp(req), reason: 'no-csr', message });
      return reply.code(400).send({ error: 'no-csr', message });
    }
    const check = await checkCsr(req.body, options.csrPolicy);
    if (!check.ok) {
      audit.write({ event: 'bootstrap', decision: 'refused', sourceIp: sourceIp(req), reason: check.code, message: check.message });
      return reply.code(400).send({ error: check.code, message: check.message });
    }
    const sans = check.sans.map((n) => n.value);
    const chain = await stepCa.sign(check.csr.toString('pem'), check.commonName, sans.length > 0 ? sans : [check.commonName]);
    recordIssued(chain, check.commonName, 'bootstrap', req, 'bootstrap');
    return reply.code(200).type('application/x-pem-file').send(chain);
  }

  async function handleServerKeyGen(req: FastifyRequest, reply: FastifyReply) {
    if (!options.serverKeyGen) {
      return refuse(reply, req, 'bootstrap-serverkeygen', { reason: 'serverkeygen-off', message: 'server-side key generation is disabled' });
    }
    const decision = serviceState.decide(sourceIp(req));
    if (!decision.allowed) return refuse(reply, req, 'bootstrap-serverkeygen', decision);
    const body = z.object({ commonName: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/) }).safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: 'bad-request', message: 'body must be {"commonName": "<device id>"}' });
    const { privateKeyPem, csrPem } = await createKeyAndCsr({ commonName: body.data.commonName }, 'ecdsa-p256');
    const chain = await stepCa.sign(csrPem, body.data.commonName, [body.data.commonName]);
    recordIssued(chain, body.data.commonName, 'bootstrap', req, 'bootstrap-serverkeygen');
    return reply.code(200).send({ certificateChainPem: chain, privateKeyPem });
  }

  function registerPublicRoutes(app: FastifyInstance) {
    for (const type of PEM_TYPES) {
      app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    }
    app.get('/health', async () => ({ status: 'ok' }));
    app.post('/api/v1/bootstrap', handleBootstrap);
    // The trust anchor over the insecure channel (FR-PS-004): after a root rotation (UC-05) a
    // device learns the new root here, only from a white-listed address while the service is ON.
    app.get('/api/v1/ca', async (req, reply) => {
      const decision = serviceState.decide(sourceIp(req));
      if (!decision.allowed) return refuse(reply, req, 'trust-anchor', decision);
      audit.write({ event: 'trust-anchor', decision: 'served', sourceIp: sourceIp(req) });
      return reply.type('application/x-pem-file').send(options.ca.rootPem);
    });
    // Revocation data is public: every CRL a client needs to check a whole chain.
    app.get('/api/v1/crl', async (_req, reply) => {
      const crls = [await stepCa.crlPem(), ...(options.extraCrls?.() ?? [])];
      return reply.type('application/x-pem-file').send(crls.map((c) => c.trim()).join('\n') + '\n');
    });
    app.post('/api/v1/bootstrap/serverkeygen', handleServerKeyGen);
  }

  function requireAdmin(req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) {
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (token && tokensEqual(token, adminToken)) return done();
    audit.write({ event: 'admin-auth', decision: 'refused', sourceIp: sourceIp(req), reason: token ? 'wrong-token' : 'no-token', path: req.url });
    void reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="ecm-lab provisioning admin"')
      .send({ error: 'unauthorized', message: token ? 'the admin token is wrong' : 'admin endpoints need Authorization: Bearer <token>' });
  }

  function registerAdminRoutes(app: FastifyInstance) {
    app.get('/admin', async (_req, reply) => reply.type('text/html; charset=utf-8').send(adminPageHtml));
    app.register(async (admin) => {
      admin.addHook('onRequest', requireAdmin);
      admin.get('/api/v1/admin/state', async () => serviceState.snapshot());
      admin.put('/api/v1/admin/state', async (req, reply) => {
        const body = stateBody.safeParse(req.body);
        if (!body.success) return reply.code(400).send({ error: 'bad-request', message: z.prettifyError(body.error) });
        if (body.data.enabled) return serviceState.enable({ autoOffSeconds: body.data.autoOffSeconds });
        serviceState.disable('turned OFF by an administrator');
        return serviceState.snapshot();
      });
      admin.get('/api/v1/admin/whitelist', async () => ({ entries: serviceState.whitelist.entries }));
      admin.put('/api/v1/admin/whitelist', async (req, reply) => {
        const body = whitelistBody.safeParse(req.body);
        if (!body.success) return reply.code(400).send({ error: 'bad-request', message: z.prettifyError(body.error) });
        return { entries: serviceState.setWhitelist(body.data.entries).entries };
      });
      admin.get('/api/v1/admin/inventory', async (req) => {
        const { deviceId } = req.query as { deviceId?: string };
        const records = deviceId ? inventory.byDevice(deviceId) : inventory.list();
        return { expiringWithinSeconds: expiringWithinMs / 1000, certificates: records.map((r) => describeRecord(r, now(), expiringWithinMs)) };
      });
      admin.post('/api/v1/admin/revocations', async (req, reply) => {
        const body = revocationBody.safeParse(req.body);
        if (!body.success) return reply.code(400).send({ error: 'bad-request', message: z.prettifyError(body.error) });
        const record = inventory.get(body.data.serial);
        if (!record) return reply.code(404).send({ error: 'unknown-serial', message: `no certificate with serial ${body.data.serial} in the inventory` });
        if (record.status === 'revoked') return reply.code(409).send({ error: 'already-revoked', message: `certificate ${record.serial} is already revoked` });
        await stepCa.revoke(record.serial, body.data.reason, `revoked by the provisioning service: ${body.data.reason}`);
        const revoked = inventory.markRevoked(record.serial, body.data.reason, new Date(now()))!;
        audit.write({ event: 'revocation', decision: 'served', sourceIp: sourceIp(req), serial: record.serial, deviceId: record.deviceId, reason: body.data.reason });
        if (options.onCrlUpdated) await options.onCrlUpdated(await stepCa.crlPem());
        return describeRecord(revoked, now(), expiringWithinMs);
      });
      admin.get('/api/v1/admin/audit', async (req) => {
        const limit = Math.min(Number((req.query as { limit?: string }).limit ?? 100) || 100, 1000);
        return { records: audit.recent(limit) };
      });
    });
  }

  function registerAcmeGate(app: FastifyInstance) {
    app.addContentTypeParser('application/jose+json', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    const origin = options.ca.url;
    const gate = async (req: FastifyRequest, reply: FastifyReply) => {
      const decision = serviceState.decide(sourceIp(req));
      if (!decision.allowed) {
        audit.write({ event: 'acme', decision: 'refused', sourceIp: sourceIp(req), reason: decision.reason, message: decision.message, path: req.url });
        return reply.code(403).type('application/problem+json').send(acmeProblem('unauthorized', decision.message, 403));
      }
      if (!hostIsGate(req.headers.host, req.socket.localPort ?? 0)) {
        const message = `the Host header ${JSON.stringify(req.headers.host ?? '')} does not name this service`;
        audit.write({ event: 'acme', decision: 'refused', sourceIp: sourceIp(req), reason: 'bad-host', message, path: req.url });
        return reply.code(400).type('application/problem+json').send(acmeProblem('malformed', message, 400));
      }
      let res: Awaited<ReturnType<typeof forwardToCa>>;
      try {
        res = await forwardToCa({ origin, rootPem: options.ca.rootPem }, { method: req.method, url: req.url, headers: req.headers, body: req.body as Buffer | undefined });
      } catch (err) {
        // step-ca unreachable (restarting, say): the gate's problem, not the client's.
        const message = `step-ca could not be reached: ${(err as Error).message}`;
        audit.write({ event: 'acme', decision: 'refused', sourceIp: sourceIp(req), reason: 'ca-unreachable', message, path: req.url });
        return reply.code(502).type('application/problem+json').send(acmeProblem('serverInternal', message, 502));
      }
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined && !isHopByHop(name)) reply.header(name, value);
      }
      if (res.status === 200 && /\/certificate\//.test(req.url) && String(res.headers['content-type']).startsWith('application/pem-certificate-chain')) {
        recordIssued(res.text(), sourceIp(req), 'bootstrap', req, 'acme-certificate');
      }
      return reply.code(res.status).send(res.body);
    };
    app.all(`/acme/${options.ca.acmeProvisioner}/*`, gate);
    // X5C exchanges are authenticated by the bootstrap certificate itself, not by the white list:
    // they are forwarded so the inventory sees every operational certificate.
    app.post('/1.0/sign', async (req, reply) => {
      // Without a body there is nothing to forward (JSON.stringify(undefined) is not a string).
      if (req.body === undefined || req.body === null) {
        audit.write({ event: 'x5c-sign', decision: 'refused', sourceIp: sourceIp(req), reason: 'no-body' });
        return reply.code(400).send({ error: 'bad-request', message: 'POST /1.0/sign needs a JSON body {"csr": "<PEM>", "ott": "<X5C token>"}' });
      }
      // step-ca's X5C provisioner does not check whether the token's bootstrap certificate was
      // revoked: it would trade a revoked bootstrap certificate for a fresh operational one.
      const bootstrapSerial = x5cLeafSerial(req.body);
      const bootstrap = bootstrapSerial === undefined ? undefined : inventory.get(bootstrapSerial);
      if (bootstrap?.status === 'revoked') {
        return refuse(reply, req, 'x5c-sign', {
          reason: 'bootstrap-revoked',
          message: `the bootstrap certificate ${bootstrap.serial} in the token's x5c header was revoked (${bootstrap.revocationReason ?? 'unspecified'}); obtain a new one by ACME`,
        }, { serial: bootstrap.serial, deviceId: bootstrap.deviceId });
      }
      const res = await forwardToCa({ origin, rootPem: options.ca.rootPem }, { method: 'POST', url: '/1.0/sign', headers: req.headers, body: Buffer.from(JSON.stringify(req.body)) });
      if (res.status === 201 || res.status === 200) {
        const signed = res.json<{ crt: string }>();
        const cn = /CN=([^,\n]+)/.exec(new X509Certificate(signed.crt).subject)?.[1] ?? 'unknown';
        recordIssued(signed.crt, cn, 'operational', req, 'x5c-sign');
      } else {
        audit.write({ event: 'x5c-sign', decision: 'refused', sourceIp: sourceIp(req), reason: `step-ca HTTP ${res.status}` });
      }
      return reply.code(res.status).type('application/json').send(res.body);
    });
  }

  function onError(err: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply) {
    if (err instanceof WhitelistError) return reply.code(400).send({ error: 'bad-whitelist', message: err.message, problems: err.problems });
    if (err instanceof ServiceStateError) return reply.code(409).send({ error: 'bad-state', message: err.message });
    if (err instanceof StepCaError) {
      audit.write({ event: 'step-ca', decision: 'refused', sourceIp: sourceIp(req), reason: err.message });
      return reply.code(502).send({ error: 'ca-refused', message: err.message });
    }
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: 'bad-request', message: err.message });
    // The service's stderr is its log file (reports/logs/<lab>/provisioning-service.log).
    console.error(`${req.method} ${req.url}: ${err.stack ?? err.message}`);
    return reply.code(500).send({ error: 'internal', message: 'internal error; see the service log' });
  }

  const httpsApp = Fastify({
    https: { cert: options.tls.certificateChainPem, key: options.tls.privateKeyPem, minVersion: 'TLSv1.2', ciphers: TLS12_CIPHERS },
    logger: false,
    bodyLimit: 64 * 1024,
  });
  // A refused TLS handshake (legacy version, no shared cipher) is a decision too; network noise
  // (a client that just hangs up) is not.
  httpsApp.server.on('tlsClientError', (err: Error & { code?: string }, socket: { remoteAddress?: string }) => {
    if (!err.code?.startsWith('ERR_SSL_')) return;
    const address = socket.remoteAddress ?? '';
    try {
      audit.write({ event: 'tls-handshake', decision: 'refused', sourceIp: address.startsWith('::ffff:') ? address.slice(7) : address, reason: err.code, message: err.message.trim() });
    } catch {
      // the audit log is closed: the service is stopping
    }
  });
  const httpApp = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  for (const app of [httpsApp, httpApp]) app.setErrorHandler(onError);
  registerPublicRoutes(httpsApp);
  registerAdminRoutes(httpsApp);
  registerAcmeGate(httpsApp);
  registerPublicRoutes(httpApp);

  try {
    await httpsApp.listen({ host, port: options.httpsPort ?? 0 });
    await httpApp.listen({ host, port: options.httpPort ?? 0 });
  } catch (err) {
    await Promise.allSettled([httpsApp.close(), httpApp.close()]);
    serviceState.dispose();
    inventory.close();
    audit.close();
    throw err;
  }
  const port = (app: FastifyInstance) => (app.server.address() as { port: number }).port;
  const url = `https://${host}:${port(httpsApp)}`;

  let stopped: Promise<void> | undefined;
  return {
    url,
    insecureUrl: `http://${host}:${port(httpApp)}`,
    acmeDirectoryUrl: `${url}/acme/${options.ca.acmeProvisioner}/directory`,
    adminToken,
    auditLogFile,
    issuedSerials: async () => inventory.list().map((r) => r.serial),
    stop() {
      stopped ??= (async () => {
        await Promise.allSettled([httpsApp.close(), httpApp.close()]);
        serviceState.dispose();
        inventory.close();
        audit.close();
      })();
      return stopped;
    },
  };
}
