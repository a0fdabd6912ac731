// The operational authority's API, served at the service's own URL: what the step CLI (the
// device's client in seed 000) needs for X5C and renewal, and what the lab's own client uses.
// Requests are forwarded unchanged (step-ca authenticates them: the X5C token, the renewal
// token); the service records every certificate that comes back. Nothing here is a gate:
// step-ca asks the service's x5c-identity webhook itself, whichever way the request came.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { stepCaErrorDetail } from '../../../net/step-ca-api.ts';
import { forwardToCa, isHopByHop } from '../acme-gate.ts';
import { recordIssued, sourceIp, type ServiceContext } from '../context.ts';
import { sendProblem } from '../problems.ts';

/** Read-only routes the step CLI calls before it signs or renews (provisioner list, roots, version, CRL). */
const READ_ROUTES = ['/provisioners', '/roots', '/roots.pem', '/root/:sha', '/version', '/federation', '/crl', '/1.0/crl'];
/** Routes that answer with a newly issued certificate (step-ca serves each with and without /1.0), and how the inventory names the way it came. */
const ISSUING_ROUTES = { '/1.0/sign': 'x5c', '/sign': 'x5c', '/1.0/renew': 'renewal', '/renew': 'renewal', '/1.0/rekey': 'rekey', '/rekey': 'rekey' } as const;

export function registerCaApi(app: FastifyInstance, ctx: ServiceContext): void {
  const target = { origin: ctx.options.ca.url, rootPem: ctx.options.ca.rootPem };

  const forward = async (req: FastifyRequest, reply: FastifyReply, event: string) => {
    let res: Awaited<ReturnType<typeof forwardToCa>>;
    try {
      res = await forwardToCa(target, { method: req.method, url: req.url, headers: req.headers, body: req.body as Buffer | undefined });
    } catch (err) {
      const message = `step-ca could not be reached: ${(err as Error).message}`;
      ctx.audit.write({ event, decision: 'refused', sourceIp: sourceIp(req), reason: 'ca-unreachable', message });
      return { res: undefined, sent: sendProblem(reply, 502, 'ca-unreachable', message) };
    }
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !isHopByHop(name)) reply.header(name, value);
    }
    return { res, sent: undefined };
  };

  // The bodies are forwarded byte for byte; the step CLI sends an empty JSON body with its renewal token.
  app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    for (const route of READ_ROUTES) {
      scope.get(route, async (req, reply) => {
        const { res, sent } = await forward(req, reply, 'ca-api');
        return sent ?? reply.code(res!.status).send(res!.body);
      });
    }
    for (const [route, via] of Object.entries(ISSUING_ROUTES)) {
      const event = via === 'x5c' ? 'x5c-sign' : via;
      scope.post(route, async (req, reply) => {
        // A sign request is its body ({"csr", "ott"}); a renewal may be a bare token in the Authorization header.
        if (via !== 'renewal' && !(Buffer.isBuffer(req.body) && req.body.length > 0)) {
          const message = `POST ${route} needs a JSON body {"csr": "<PEM>", "ott": "<one-time token>"}`;
          ctx.audit.write({ event, decision: 'refused', sourceIp: sourceIp(req), reason: 'no-body', message });
          return sendProblem(reply, 400, 'bad-request', message);
        }
        const { res, sent } = await forward(req, reply, event);
        if (sent) return sent;
        if (res!.status === 201 || res!.status === 200) {
          const { crt } = res!.json<{ crt: string }>();
          recordIssued(ctx, crt, { kind: 'operational', via }, req, event);
        } else {
          ctx.audit.write({ event, decision: 'refused', sourceIp: sourceIp(req), reason: `step-ca HTTP ${res!.status}`, message: stepCaErrorDetail(res!.text()) });
        }
        return reply.code(res!.status).send(res!.body);
      });
    }
  });
}
