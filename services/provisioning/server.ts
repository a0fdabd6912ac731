// The reference provisioning service (seed 001 FR-PS-001..004, NFR-USE-001/002). This file only
// wires: stores, the two step-ca clients and three listeners, each with the routes of its concern.
//   HTTPS  the ACME gate (routes/acme-gate.ts), the operational authority's API for X5C and
//          renewal (routes/ca-api.ts), the bootstrap endpoint (routes/bootstrap.ts), the admin
//          API and page (routes/admin.ts);
//   HTTP   the bootstrap endpoint only: the "insecure channel" of FR-PS-004;
//   hooks  the webhooks step-ca calls before it signs (routes/webhooks.ts), mutual TLS.
// FOR TESTING, NOT FOR PRODUCTION: this is the lab's reference of what a provisioning service
// must do; it runs on loopback with keys made per run.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { mutualServerTlsOptions, serverTlsOptions } from '../../net/tls-policy.ts';
import { certificateSerial } from '../../x509/certificates.ts';
import { AuditLog } from './audit-log.ts';
import { sourceIp, type AuthorityOptions, type ProvisioningServiceOptions, type ServiceContext } from './context.ts';
import { fetchExternalCrl, orderIntermediate } from '../../net/external-ca-api.ts';
import { IntermediateMonitor } from './intermediate-monitor.ts';
import { IdentityRules, Enrolments } from './identities.ts';
import { Inventory } from './inventory.ts';
import { LegacyCredentials } from './legacy-credentials.ts';
import { IssuanceFeed } from './issuance-feed.ts';
import { registerAcmeGate } from './routes/acme-gate.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerBootstrapRoutes } from './routes/bootstrap.ts';
import { registerCaApi } from './routes/ca-api.ts';
import { registerWebhooks } from './routes/webhooks.ts';
import { SupersededRevoker } from './revocation.ts';
import { ServiceState, ServiceStateError, type ServiceStateEvent } from './service-state.ts';
import { StepCaClient, StepCaError } from './step-ca-client.ts';
import { WhitelistError } from './whitelist.ts';
import { sendProblem } from './problems.ts';

export type { ProvisioningServiceOptions } from './context.ts';

export interface StartedProvisioningService {
  /** HTTPS: ACME gate, the CA API, bootstrap, admin API and page. */
  url: string;
  /** Plain HTTP: the bootstrap endpoint only. */
  insecureUrl: string;
  /** The webhook listener step-ca calls. */
  hooksUrl: string;
  acmeDirectoryUrl: string;
  adminToken: string;
  auditLogFile: string;
  /** Serials (hex) of every certificate in the inventory issued by `issuer` (a subject DN), for a retiring CA's final CRL. */
  issuedSerials(issuer?: string): Promise<string[]>;
  stop(): Promise<void>;
}

function onError(ctx: ServiceContext) {
  return (err: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof WhitelistError) return sendProblem(reply, 400, 'bad-whitelist', err.message, { problems: err.problems });
    if (err instanceof ServiceStateError) return sendProblem(reply, 409, 'bad-state', err.message);
    if (err instanceof StepCaError) {
      ctx.audit.write({ event: 'step-ca', decision: 'refused', sourceIp: sourceIp(req), reason: err.message });
      return sendProblem(reply, 502, 'ca-refused', err.message);
    }
    if (err.statusCode && err.statusCode < 500) return sendProblem(reply, err.statusCode, 'bad-request', err.message);
    // The service's stderr is its log file (reports/logs/<lab>/provisioning-service.log).
    console.error(`${req.method} ${req.url}: ${err.stack ?? err.message}`);
    return sendProblem(reply, 500, 'internal', 'internal error; see the service log');
  };
}

function openState(options: ProvisioningServiceOptions, audit: AuditLog): ServiceState {
  const stateFile = path.join(options.dataDir, 'state.json');
  // Every state change is audited and persisted (atomically), so ON/OFF, the white list and the
  // auto-off deadline survive a restart of the service (NFR-REL-002). Persisting subscribes once
  // the state exists: fromJSON's own events (restored, disabled) come before that.
  const audited = (event: ServiceStateEvent) => audit.write({ event: `state-${event.type}`, decision: 'info', ...event });
  const state = existsSync(stateFile)
    ? ServiceState.fromJSON(JSON.parse(readFileSync(stateFile, 'utf8')), { clock: options.clock, listener: audited })
    : new ServiceState({ clock: options.clock, listener: audited });
  const persist = () => {
    const tmp = `${stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(state.toJSON()), { mode: 0o600 });
    renameSync(tmp, stateFile);
  };
  state.subscribe(persist);
  persist();
  return state;
}

/**
 * UC-04 by itself: with an external CA, the service watches its CRL and, when the intermediate
 * step-ca signs with is on it, orders a new one (for a CSR of a new key the keeper makes) and hands
 * it to the keeper, which installs it and restarts step-ca.
 */
function watchExternalCa(options: ProvisioningServiceOptions, audit: AuditLog): IntermediateMonitor | undefined {
  const external = options.externalCa;
  if (!external) return undefined;
  const keeper = options.issuingCa;
  if (!keeper) throw new Error("externalCa needs issuingCa: the keeper of step-ca's signing key");
  const monitor = new IntermediateMonitor({
    crlUrl: external.crlUrl,
    fetchCrl: () => fetchExternalCrl(external.crlUrl),
    rootPem: external.rootPem,
    intermediatePem: options.ca.intermediatePem,
    intervalMs: external.checkIntervalMs,
    audit: (event) => audit.write(event),
    log: (line) => console.log(`external CA watch: ${line}`),
    async reissue(cause) {
      const csrPem = await keeper.newCsr();
      const ordered = await orderIntermediate({ apiUrl: external.apiUrl, rootPem: external.rootPem, privateJwk: external.privateJwk, client: external.client, csrPem });
      await keeper.install({ certificatePem: ordered.certificatePem, chainPem: ordered.chainPem, cause });
      return { serial: ordered.serial };
    },
  });
  monitor.start();
  return monitor;
}

export async function startProvisioningService(options: ProvisioningServiceOptions): Promise<StartedProvisioningService> {
  const host = options.host ?? '127.0.0.1';
  const adminToken = options.adminToken ?? randomBytes(32).toString('base64url');
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const auditLogFile = path.join(options.dataDir, 'audit.log');
  const audit = new AuditLog({ file: auditLogFile });
  const client = (authority: AuthorityOptions) =>
    new StepCaClient({ caUrl: authority.url, rootPem: authority.rootPem, audienceHost: authority.audienceHost, provisioner: authority.jwkProvisioner, privateJwk: authority.privateJwk });
  const rules = new IdentityRules({ applicationIdentity: options.trust.applicationIdentity, reserved: options.trust.reservedIdentities });
  const ctx: ServiceContext = {
    options,
    audit,
    inventory: Inventory.open(path.join(options.dataDir, 'inventory.sqlite')),
    enrolments: Enrolments.open(path.join(options.dataDir, 'enrolments.sqlite'), rules),
    legacy: LegacyCredentials.open(path.join(options.dataDir, 'legacy-credentials.sqlite')),
    state: openState(options, audit),
    authorities: { operational: client(options.ca), bootstrap: client(options.bootstrapCa) },
    now: () => (options.clock ? options.clock.now() : Date.now()),
    expiringWithinMs: (options.expiringWithinSeconds ?? 7 * 24 * 3600) * 1000,
  };

  // Whatever the authorities issue on any path, renewals straight at step-ca included.
  const feeds = [
    { file: options.bootstrapCa.logFile, kind: 'bootstrap' },
    { file: options.ca.logFile, kind: 'operational' },
  ].flatMap(({ file, kind }) =>
    file
      ? [
          new IssuanceFeed({
            file,
            onIssued: ({ der, path: route }) => {
              if (ctx.inventory.get(certificateSerial(der))) return;
              const via = /renew/.test(route) ? 'renewal' : /acme/.test(route) ? 'acme' : kind === 'bootstrap' ? 'bootstrap-endpoint' : 'x5c';
              const record = ctx.inventory.record(der, { kind, via });
              audit.write({ event: 'issued-by-ca', decision: 'info', serial: record.serial, deviceId: record.deviceId, via, path: route });
            },
          }).start(),
        ]
      : [],
  );

  const identity = { cert: options.tls.certificateChainPem, key: options.tls.privateKeyPem };
  const httpsApp = Fastify({ https: serverTlsOptions(identity), logger: false, bodyLimit: 64 * 1024 });
  const httpApp = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  const hooksApp = Fastify({ https: mutualServerTlsOptions({ ...identity, ca: [options.ca.rootPem, options.bootstrapCa.rootPem] }), logger: false, bodyLimit: 256 * 1024 });
  // A refused TLS handshake (legacy version, no shared cipher, no client certificate) is a
  // decision too; network noise (a client that just hangs up) is not.
  for (const [app, event] of [[httpsApp, 'tls-handshake'], [hooksApp, 'webhook-tls-handshake']] as const) {
    app.server.on('tlsClientError', (err: Error & { code?: string }, socket: { remoteAddress?: string }) => {
      if (!err.code?.startsWith('ERR_SSL_')) return;
      const address = socket.remoteAddress ?? '';
      try {
        audit.write({ event, decision: 'refused', sourceIp: address.startsWith('::ffff:') ? address.slice(7) : address, reason: err.code, message: err.message.trim() });
      } catch {
        // the audit log is closed: the service is stopping
      }
    });
  }
  const notFound = (req: FastifyRequest, reply: FastifyReply) => sendProblem(reply, 404, 'not-found', `${req.method} ${req.url.split('?')[0]} is not a route of this listener`);
  for (const app of [httpsApp, httpApp, hooksApp] as FastifyInstance[]) {
    app.setErrorHandler(onError(ctx));
    app.setNotFoundHandler(notFound);
  }
  // An empty body with a JSON content type (curl -X DELETE -H 'content-type: application/json')
  // is no body, not a 400: Fastify's own parser refuses it.
  for (const app of [httpsApp, httpApp]) {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      if (body === '') return done(null, undefined);
      try {
        done(null, JSON.parse(body as string));
      } catch (err) {
        done(Object.assign(new Error(`the body is not JSON: ${(err as Error).message}`), { statusCode: 400 }), undefined);
      }
    });
  }
  registerBootstrapRoutes(httpsApp, ctx, { secure: true });
  registerAdminRoutes(httpsApp, ctx, adminToken);
  registerAcmeGate(httpsApp, ctx);
  registerCaApi(httpsApp, ctx);
  registerBootstrapRoutes(httpApp, ctx, { secure: false });
  registerWebhooks(hooksApp, ctx);

  let monitor: IntermediateMonitor | undefined;
  const superseded =
    options.supersededGraceMs === undefined
      ? undefined
      : new SupersededRevoker(ctx, {
          graceMs: options.supersededGraceMs,
          beforeSweep: () => feeds.forEach((feed) => feed.poll()),
          onError: (err) => console.error(`revoking superseded certificates: ${err.stack ?? err.message}`),
        });
  const close = async () => {
    await superseded?.stop();
    await monitor?.stop();
    // The public listeners first: a request they already took (an X5C sign, an ACME finalize)
    // waits for step-ca, which calls the webhooks; closing those too would make step-ca refuse
    // it (403), and the device would take a restart for a refusal.
    await Promise.allSettled([httpsApp.close(), httpApp.close()]);
    await hooksApp.close().catch(() => undefined);
    for (const feed of feeds) feed.stop();
    ctx.state.dispose();
    ctx.inventory.close();
    ctx.enrolments.close();
    ctx.legacy.close();
    audit.close();
  };
  try {
    await hooksApp.listen({ host, port: options.hooksPort ?? 0 });
    await httpsApp.listen({ host, port: options.httpsPort ?? 0 });
    await httpApp.listen({ host, port: options.httpPort ?? 0 });
    monitor = watchExternalCa(options, audit);
    superseded?.start();
  } catch (err) {
    await close();
    throw err;
  }
  const port = (app: FastifyInstance) => (app.server.address() as { port: number }).port;
  const url = `https://${host}:${port(httpsApp)}`;

  let stopped: Promise<void> | undefined;
  return {
    url,
    insecureUrl: `http://${host}:${port(httpApp)}`,
    hooksUrl: `https://${host}:${port(hooksApp)}`,
    acmeDirectoryUrl: `${url}/acme/${options.bootstrapCa.acmeProvisioner}/directory`,
    adminToken,
    auditLogFile,
    issuedSerials: async (issuer) => {
      for (const feed of feeds) feed.poll();
      return ctx.inventory.list().filter((r) => issuer === undefined || r.issuer === issuer).map((r) => r.serial);
    },
    stop: () => (stopped ??= close()),
  };
}
