// The bootstrap endpoint (FR-PS-004): a CSR in, a bootstrap credential out, from a white-listed
// address while the service is ON, over plain HTTP or HTTPS. The credential names the address
// it was issued to; the CSR's CN is the identity the device claims, bound to the new credential
// by the same rules as every other path (identities.ts): never a reserved identity, never one
// another device holds. Server-side key generation (seed 004) answers with a private key, so it
// exists on the HTTPS listener only (NFR-SEC-003).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createKeyAndCsr } from '../../../x509/csr.ts';
import { recordIssued, refuse, sourceIp, type ServiceContext } from '../context.ts';
import { checkCsr, type CsrCheckResult } from '../csr-policy.ts';
import { supersede } from '../supersede.ts';

const PEM_TYPES = ['application/pkcs10', 'application/x-pem-file'];

type CheckedCsr = Extract<CsrCheckResult, { ok: true }>;

/**
 * Issues a bootstrap credential for `identity` to the requesting address, if the identity rules
 * allow it: checked before signing, and bound atomically after (a concurrent request for the same
 * identity that won in between gets the fresh credential revoked and a 409).
 */
async function issueBootstrap(ctx: ServiceContext, req: FastifyRequest, reply: FastifyReply, event: string, csrPem: string, identity: string) {
  const address = sourceIp(req);
  const claimsIdentity = identity !== address;
  const request = (serial: string) => ({ identity, credential: { serial, address }, namedIdentity: ctx.state.whitelist.namedIdentity(address), namedAddress: ctx.state.whitelist.namedAddress(identity) });
  if (claimsIdentity) {
    const decision = ctx.enrolments.evaluate(request('(new)'));
    if (!decision.allow) {
      return refuse(ctx, reply, req, event, { reason: decision.code, message: decision.message }, { status: decision.code === 'bad-identity' ? 400 : 403, extra: { deviceId: identity } });
    }
  }
  const chain = await ctx.authorities.bootstrap.sign(csrPem, identity, [address]);
  const record = recordIssued(ctx, chain, { deviceId: identity, kind: 'bootstrap', via: event === 'bootstrap' ? 'bootstrap-endpoint' : 'serverkeygen' }, req, event);
  if (claimsIdentity) {
    const decision = ctx.enrolments.decide(request(record.serial));
    if (!decision.allow) {
      await ctx.authorities.bootstrap.revoke(record.serial, 'cessationOfOperation', `lost the enrolment of ${identity}: ${decision.message}`);
      ctx.inventory.markRevoked(record.serial, 'cessationOfOperation', new Date(ctx.now()));
      return refuse(ctx, reply, req, event, { reason: decision.code, message: decision.message }, { status: 409, extra: { deviceId: identity, serial: record.serial } });
    }
    if (decision.superseded) await supersede(ctx, decision.superseded, identity);
  }
  return chain;
}

/** The CSR may name the requesting address as its only SAN, or none: the credential names it anyway. */
function sanProblem(csr: CheckedCsr, address: string): string | undefined {
  const other = csr.sans.filter((n) => !(n.type === 'ip' && n.value === address));
  return other.length === 0 ? undefined : `the CSR asks for SANs ${other.map((n) => `${n.type}:${n.value}`).join(', ')}; a bootstrap credential names only the requesting address ${address}`;
}

export function registerBootstrapRoutes(app: FastifyInstance, ctx: ServiceContext, options: { secure: boolean }): void {
  for (const type of PEM_TYPES) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
  }
  app.get('/health', async () => ({ status: 'ok' }));

  app.post('/api/v1/bootstrap', async (req, reply) => {
    const decision = ctx.state.decide(sourceIp(req));
    if (!decision.allowed) return refuse(ctx, reply, req, 'bootstrap', decision);
    // No body, or no content type (Fastify leaves the body undefined): nothing to check.
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
      const message = 'the request carries no CSR: send a PEM or DER CSR as application/pkcs10 or application/x-pem-file';
      return refuse(ctx, reply, req, 'bootstrap', { reason: 'no-csr', message }, { status: 400 });
    }
    const check = await checkCsr(req.body, ctx.options.csrPolicy);
    if (!check.ok) return refuse(ctx, reply, req, 'bootstrap', { reason: check.code, message: check.message }, { status: 400 });
    const badSan = sanProblem(check, sourceIp(req));
    if (badSan) return refuse(ctx, reply, req, 'bootstrap', { reason: 'bad-san', message: badSan }, { status: 400 });
    const chain = await issueBootstrap(ctx, req, reply, 'bootstrap', check.csr.toString('pem'), check.commonName);
    if (typeof chain !== 'string') return chain;
    return reply.code(200).type('application/x-pem-file').send(chain);
  });

  if (options.secure) {
    app.post('/api/v1/bootstrap/serverkeygen', async (req, reply) => {
      if (!ctx.options.serverKeyGen) {
        return refuse(ctx, reply, req, 'bootstrap-serverkeygen', { reason: 'serverkeygen-off', message: 'server-side key generation is disabled' });
      }
      const decision = ctx.state.decide(sourceIp(req));
      if (!decision.allowed) return refuse(ctx, reply, req, 'bootstrap-serverkeygen', decision);
      const body = z.object({ commonName: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/) }).strict().safeParse(req.body);
      if (!body.success) return refuse(ctx, reply, req, 'bootstrap-serverkeygen', { reason: 'bad-request', message: 'body must be {"commonName": "<device id>"}' }, { status: 400 });
      const { privateKeyPem, csrPem } = await createKeyAndCsr({ commonName: body.data.commonName }, ctx.options.keyAlgorithm ?? 'ecdsa-p256');
      const chain = await issueBootstrap(ctx, req, reply, 'bootstrap-serverkeygen', csrPem, body.data.commonName);
      if (typeof chain !== 'string') return chain;
      return reply.code(200).send({ certificateChainPem: chain, privateKeyPem });
    });
  }

  // The trust anchor over the insecure channel (FR-PS-004): after a root rotation (UC-05) a device
  // learns the new root here, only from a white-listed address while the service is ON.
  app.get('/api/v1/ca', async (req, reply) => {
    const decision = ctx.state.decide(sourceIp(req));
    if (!decision.allowed) return refuse(ctx, reply, req, 'trust-anchor', decision);
    ctx.audit.write({ event: 'trust-anchor', decision: 'served', sourceIp: sourceIp(req) });
    return reply.type('application/x-pem-file').send(ctx.options.ca.rootPem);
  });

  // Revocation data is public: every CRL a client needs to check a whole chain, its bootstrap credential's too.
  app.get('/api/v1/crl', async (_req, reply) => {
    const crls = [await ctx.authorities.operational.crlPem(), await ctx.authorities.bootstrap.crlPem(), ...(ctx.options.extraCrls?.() ?? [])];
    return reply.type('application/x-pem-file').send(crls.map((c) => c.trim()).join('\n') + '\n');
  });
}
