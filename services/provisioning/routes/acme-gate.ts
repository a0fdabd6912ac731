// The gate in front of the bootstrap authority's ACME provisioner: requests are checked against
// the ON/OFF state and the white list by their real source address before step-ca sees them,
// then forwarded unchanged. The gate is defence in depth: step-ca itself asks the service again
// at finalize (the acme-window webhook), so going round the gate gains nothing.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { acmeProblem, forwardToCa, hostIsGate, isHopByHop } from '../acme-gate.ts';
import { recordIssued, sourceIp, type ServiceContext } from '../context.ts';

export function registerAcmeGate(app: FastifyInstance, ctx: ServiceContext): void {
  const { bootstrapCa } = ctx.options;
  const target = { origin: bootstrapCa.url, rootPem: bootstrapCa.rootPem };
  const refuse = (req: FastifyRequest, reply: FastifyReply, reason: string, message: string, status: number, type: Parameters<typeof acmeProblem>[0]) => {
    ctx.audit.write({ event: 'acme', decision: 'refused', sourceIp: sourceIp(req), reason, message, path: req.url });
    return reply.code(status).type('application/problem+json').send(acmeProblem(type, message, status));
  };
  const gate = async (req: FastifyRequest, reply: FastifyReply) => {
    const decision = ctx.state.decide(sourceIp(req));
    if (!decision.allowed) return refuse(req, reply, decision.reason, decision.message, 403, 'unauthorized');
    if (!hostIsGate(req.headers.host, req.socket.localPort ?? 0, ctx.options.host)) {
      return refuse(req, reply, 'bad-host', `the Host header ${JSON.stringify(req.headers.host ?? '')} does not name this service`, 400, 'malformed');
    }
    // acme-client asks newNonce with HEAD before every signed request, and step-ca answers a HEAD
    // without a Content-Length, after which Node's HTTP client gives up the kept-alive connection:
    // seven new TLS connections to step-ca per device, a fifth of the service's CPU (profile in
    // BENCHMARKS.md). GET newNonce is the same request to step-ca (RFC 8555 §7.2: HEAD or GET,
    // 204 instead of 200) on a connection that stays alive; the HEAD is answered here as step-ca would.
    const nonceByHead = req.method === 'HEAD' && /\/new-nonce(?:\?|$)/.test(req.url);
    let res: Awaited<ReturnType<typeof forwardToCa>>;
    try {
      res = await forwardToCa(target, { method: nonceByHead ? 'GET' : req.method, url: req.url, headers: req.headers, body: req.body as Buffer | undefined });
    } catch (err) {
      // step-ca unreachable (restarting, say): the gate's problem, not the client's.
      return refuse(req, reply, 'ca-unreachable', `step-ca could not be reached: ${(err as Error).message}`, 502, 'serverInternal');
    }
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !isHopByHop(name)) reply.header(name, value);
    }
    if (res.status === 200 && /\/certificate\//.test(req.url) && String(res.headers['content-type']).startsWith('application/pem-certificate-chain')) {
      recordIssued(ctx, res.text(), { kind: 'bootstrap', via: 'acme' }, req, 'acme-certificate');
    }
    return reply.code(nonceByHead && res.status === 204 ? 200 : res.status).send(res.body);
  };
  app.addContentTypeParser('application/jose+json', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
  app.all(`/acme/${bootstrapCa.acmeProvisioner}/*`, gate);
}
