// The AUTHORIZING webhooks step-ca calls before it signs (docs/trust-model.md). This is where the
// trust rules are enforced for every path into step-ca, the service's own front door or not:
// - acme-window (bootstrap authority, at ACME finalize): the identifier is one address of the
//   device network, the service is ON and the address is on the white list;
// - x5c-identity (operational authority, at X5C sign): the bootstrap credential is not revoked,
//   the certificate carries exactly its identity (its URI SAN, and seed 003's device-id otherName
//   equal to its CN), and the identity rules (identities.ts) allow
//   this credential to hold it.
// Only step-ca may call them: the listener requires a client certificate, and each route accepts
// only the TLS certificate of its own authority (CN "Step Online CA", issued by its intermediate).
// A webhook that does not answer is a refusal (step-ca fails closed).
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { sourceIp, type ServiceContext } from '../context.ts';
import { commonName, parseCertificate, type X509Certificate } from '../../../x509/certificates.ts';
import { normalizeSerial } from '../inventory.ts';
import { supersede } from '../supersede.ts';
import { operationalNamesRefusal } from '../device-id-san.ts';
import { DEVICE_ID_OID } from '../../../x509/device-id.ts';
import { sendProblem } from '../problems.ts';

const STEP_CA_TLS_CN = 'Step Online CA';

const sanSchema = z.object({ type: z.string(), value: z.string() });
/** The certificate step-ca is about to sign, after its template (x509util.Certificate as JSON). */
const certificateSchema = z
  .object({
    subject: z.object({ commonName: z.string().optional() }).loose().optional(),
    sans: z.array(sanSchema).nullish(),
    dnsNames: z.array(z.string()).nullish(),
    ipAddresses: z.array(z.string()).nullish(),
    emailAddresses: z.array(z.string()).nullish(),
    uris: z.array(z.string()).nullish(),
  })
  .loose();
const acmeBody = z.object({ x509Certificate: certificateSchema }).loose();
const x5cBody = z.object({ x509Certificate: certificateSchema, x5cCertificate: z.object({ raw: z.string().min(1) }).loose() }).loose();

type Refusal = { code: string; message: string };
type Names = { type: string; value: string }[];

/** Every name the certificate will carry, whether the template put it in `sans` or in the typed lists. */
function namesOf(cert: z.infer<typeof certificateSchema>): Names {
  const names: Names = [...(cert.sans ?? [])];
  const add = (type: string, values: string[] | null | undefined) => {
    for (const value of values ?? []) if (!names.some((n) => n.type === type && n.value === value)) names.push({ type, value });
  };
  add('dns', cert.dnsNames);
  add('ip', cert.ipAddresses);
  add('email', cert.emailAddresses);
  add('uri', cert.uris);
  return names;
}

function inNetwork(address: string, cidr: string): boolean {
  try {
    const parsed = ipaddr.parse(address);
    const range = ipaddr.parseCIDR(cidr);
    return parsed.kind() === range[0].kind() && parsed.match(range);
  } catch {
    return false;
  }
}

export function registerWebhooks(app: FastifyInstance, ctx: ServiceContext): void {
  // step-ca sends its JSON without a Content-Type header.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(Object.assign(new Error(`webhook body is not JSON: ${(err as Error).message}`), { statusCode: 400 }), undefined);
    }
  });
  const authorities = {
    bootstrap: parseCertificate(ctx.options.bootstrapCa.intermediatePem),
    operational: parseCertificate(ctx.options.ca.intermediatePem),
  };

  /** The caller's certificate must be its authority's own TLS certificate. */
  function callerProblem(req: FastifyRequest, authority: keyof typeof authorities): string | undefined {
    const peer = (req.raw.socket as TLSSocket).getPeerX509Certificate?.();
    if (!peer) return 'no client certificate';
    const issuer = authorities[authority];
    const cn = commonName(peer.subject);
    if (!peer.checkIssued(issuer) || !peer.verify(issuer.publicKey)) return `client certificate CN=${cn ?? '?'} was not issued by the ${authority} authority`;
    if (cn !== STEP_CA_TLS_CN) return `client certificate CN=${cn ?? '?'} is not step-ca's`;
    return undefined;
  }

  /** Answers step-ca (200 with allow or deny) and audits the decision. */
  function answer(reply: FastifyReply, req: FastifyRequest, event: string, refusal: Refusal | undefined, facts: Record<string, unknown>) {
    ctx.audit.write({ event, decision: refusal ? 'refused' : 'served', sourceIp: sourceIp(req), ...(refusal ? { reason: refusal.code, message: refusal.message } : {}), ...facts });
    return reply.code(200).send(refusal ? { allow: false, error: refusal } : { allow: true });
  }

  function guard(req: FastifyRequest, reply: FastifyReply, event: string, authority: keyof typeof authorities): boolean {
    const problem = callerProblem(req, authority);
    if (!problem) return true;
    ctx.audit.write({ event, decision: 'refused', sourceIp: sourceIp(req), reason: 'not-step-ca', message: problem });
    void sendProblem(reply, 403, 'not-step-ca', `only the ${authority} step-ca may call this webhook: ${problem}`);
    return false;
  }

  function badBody(req: FastifyRequest, reply: FastifyReply, event: string, error: z.ZodError) {
    const message = `webhook body does not describe a certificate: ${z.prettifyError(error)}`;
    ctx.audit.write({ event, decision: 'refused', sourceIp: sourceIp(req), reason: 'bad-request', message });
    return sendProblem(reply, 400, 'bad-request', message);
  }

  app.post('/webhooks/acme-window', async (req, reply) => {
    const event = 'webhook-acme-window';
    if (!guard(req, reply, event, 'bootstrap')) return reply;
    const body = acmeBody.safeParse(req.body);
    if (!body.success) return badBody(req, reply, event, body.error);
    const names = namesOf(body.data.x509Certificate);
    const ip = names.length === 1 && names[0]!.type === 'ip' ? names[0]!.value : undefined;
    let refusal: Refusal | undefined;
    if (ip === undefined) {
      refusal = { code: 'bad-identifier', message: `a bootstrap credential names exactly one IP address; the order asks for ${names.map((n) => `${n.type}:${n.value}`).join(', ') || 'nothing'}` };
    } else if (!inNetwork(ip, ctx.options.trust.deviceNetwork)) {
      refusal = { code: 'bad-identifier', message: `${ip} is outside the device network ${ctx.options.trust.deviceNetwork}` };
    } else {
      const decision = ctx.state.decide(ip);
      if (!decision.allowed) refusal = { code: decision.reason, message: decision.message };
    }
    return answer(reply, req, event, refusal, { identifier: ip ?? names.map((n) => n.value).join(',') });
  });

  app.post('/webhooks/x5c-identity', async (req, reply) => {
    const event = 'webhook-x5c-identity';
    if (!guard(req, reply, event, 'operational')) return reply;
    const body = x5cBody.safeParse(req.body);
    if (!body.success) return badBody(req, reply, event, body.error);
    const cert = body.data.x509Certificate;
    const identity = cert.subject?.commonName ?? '';
    let credential: X509Certificate;
    try {
      credential = parseCertificate(Buffer.from(body.data.x5cCertificate.raw, 'base64'));
    } catch (err) {
      return badBody(req, reply, event, new z.ZodError([{ code: 'custom', path: ['x5cCertificate', 'raw'], message: `not a certificate: ${(err as Error).message}`, input: undefined }]));
    }
    // step-ca verified the chain up to the bootstrap root, so this is a genuine bootstrap
    // credential; it may not be in the inventory yet if it was fetched from step-ca directly.
    const serial = normalizeSerial(credential.serialNumber);
    const record = ctx.inventory.get(serial) ?? ctx.inventory.record(credential.raw, { kind: 'bootstrap' });
    const address = credential.subjectAltName?.match(/IP Address:([^,\s]+)/)?.[1] ?? null;
    const facts = { deviceId: identity, bootstrapSerial: serial, address };
    if (record.status === 'revoked') {
      return answer(reply, req, event, { code: 'bootstrap-revoked', message: `the bootstrap credential ${serial} was revoked (${record.revocationReason ?? 'unspecified'}); obtain a new one by ACME` }, facts);
    }
    const namesRefusal = operationalNamesRefusal(namesOf(cert), identity, ctx.enrolments.rules.san(identity), ctx.options.trust.deviceIdOid ?? DEVICE_ID_OID);
    if (namesRefusal) return answer(reply, req, event, namesRefusal, facts);
    const request = { identity, credential: { serial, address }, namedIdentity: ctx.state.whitelist.namedIdentity(address ?? undefined), namedAddress: ctx.state.whitelist.namedAddress(identity) };
    const preview = ctx.enrolments.evaluate(request);
    if (!preview.allow) return answer(reply, req, event, { code: preview.code, message: preview.message }, facts);
    // Side effects before the binding: a superseded credential is revoked first, and a new
    // application identity gets its broker role before step-ca signs (fail closed if either fails).
    if (preview.superseded) await supersede(ctx, preview.superseded, identity);
    if (preview.change !== 'none' && preview.enrolment.role === 'application') await ctx.options.onApplicationEnrolled?.(identity);
    const decision = ctx.enrolments.decide(request, new Date(ctx.now()));
    if (!decision.allow) return answer(reply, req, event, { code: decision.code, message: decision.message }, facts);
    if (decision.change !== 'none') ctx.audit.write({ event: 'enrolment', decision: 'served', deviceId: identity, serial, address, reason: decision.enrolment.source, role: decision.enrolment.role });
    return answer(reply, req, event, undefined, facts);
  });
}
