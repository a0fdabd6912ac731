// The service team's manual intervention (seed 000: "certificates for Reveos 2.0 and 1.X devices
// will need to be managed with existing manual intervention by the service team"), as admin API:
// - an operational certificate for an identity, from a CSR the device made (its key never leaves
//   it) or with a key the service makes (HTTPS only, like every admin route: NFR-SEC-003);
// - a legacy credential (a password for the broker's legacy listener) for firmware below the
//   installation's "x" only: from x on, certificate authentication is required.
// Both take the identity for the service team (identities.ts), so no bootstrap credential can buy
// it afterwards, and neither is given an identity a self-provisioning device already holds.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { atLeast, DEFAULT_FIRMWARE_POLICY } from '../../../config/firmware-policy.ts';
import { createKeyAndCsr } from '../../../x509/csr.ts';
import { recordIssued, refuse, sourceIp, type ServiceContext } from '../context.ts';
import { checkCsr } from '../csr-policy.ts';
import { describeRecord } from '../inventory.ts';

const certificateBody = z
  .object({
    identity: z.string(),
    /** PEM CSR made by the device. */
    csr: z.string().optional(),
    /** "server": the service makes the key and answers with it. */
    keyGeneration: z.literal('server').optional(),
    lifetimeSeconds: z.number().int().positive().optional(),
  })
  .strict()
  .refine((b) => (b.csr === undefined) !== (b.keyGeneration === undefined), { message: 'give either "csr" (a PEM CSR the device made) or "keyGeneration": "server", not both' });

const legacyBody = z.object({ identity: z.string(), firmwareVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'must be a version such as "1.4"') }).strict();

export function registerServiceTeamRoutes(admin: FastifyInstance, ctx: ServiceContext): void {
  const firmware = ctx.options.firmware ?? DEFAULT_FIRMWARE_POLICY;

  /** Why the service team cannot give this identity: not a name, the lab's own, or held by a device that provisions itself. */
  function identityRefusal(identity: string): { reason: string; message: string; status: number } | undefined {
    const { rules } = ctx.enrolments;
    const syntax = rules.syntaxProblem(identity);
    if (syntax) return { reason: 'bad-identity', message: syntax, status: 400 };
    if (rules.isReserved(identity) && !rules.isApplication(identity)) return { reason: 'identity-reserved', message: `${identity} is reserved for the lab's own servers and clients`, status: 403 };
    const holder = ctx.enrolments.byIdentity(identity);
    if (holder && holder.source !== 'service-team') {
      const message = `${identity} is enrolled by a device that provisions itself (bootstrap credential ${holder.bootstrapSerial}, address ${holder.address ?? 'none'}); release the enrolment first`;
      return { reason: 'identity-enrolled', message, status: 409 };
    }
    return undefined;
  }

  /** Takes the identity for the service team, atomically: a device enrolling it meanwhile wins, and this is refused. */
  function takeIdentity(req: FastifyRequest, reply: FastifyReply, event: string, identity: string) {
    const refusal = identityRefusal(identity);
    if (!refusal && ctx.enrolments.holdForServiceTeam(identity, new Date(ctx.now())).held) return undefined;
    const { reason, message, status } = refusal ?? { reason: 'identity-enrolled', message: `${identity} was enrolled by a device meanwhile`, status: 409 };
    return refuse(ctx, reply, req, event, { reason, message }, { status, extra: { deviceId: identity } });
  }

  admin.post('/api/v1/admin/certificates', async (req, reply) => {
    const event = 'manual-certificate';
    const body = certificateBody.safeParse(req.body);
    if (!body.success) return refuse(ctx, reply, req, event, { reason: 'bad-request', message: z.prettifyError(body.error) }, { status: 400 });
    const { identity, csr, lifetimeSeconds } = body.data;
    const san = ctx.enrolments.rules.san(identity);
    let csrPem: string;
    let privateKeyPem: string | undefined;
    if (csr !== undefined) {
      const check = await checkCsr(csr, ctx.options.csrPolicy);
      if (!check.ok) return refuse(ctx, reply, req, event, { reason: check.code, message: check.message }, { status: 400, extra: { deviceId: identity } });
      if (check.commonName !== identity) {
        return refuse(ctx, reply, req, event, { reason: 'csr-identity-mismatch', message: `the CSR names ${check.commonName}; the certificate is for ${identity}` }, { status: 400, extra: { deviceId: identity } });
      }
      const other = check.sans.filter((n) => !(n.type === 'url' && n.value === san));
      if (other.length > 0) {
        const message = `the CSR asks for SANs ${other.map((n) => `${n.type}:${n.value}`).join(', ')}; an operational certificate names only ${san}`;
        return refuse(ctx, reply, req, event, { reason: 'bad-san', message }, { status: 400, extra: { deviceId: identity } });
      }
      csrPem = check.csr.toString('pem');
    } else {
      ({ csrPem, privateKeyPem } = await createKeyAndCsr({ commonName: identity, uris: [san] }, 'ecdsa-p256'));
    }
    const refused = takeIdentity(req, reply, event, identity);
    if (refused) return refused;
    if (ctx.enrolments.rules.isApplication(identity)) await ctx.options.onApplicationEnrolled?.(identity);
    const chain = await ctx.authorities.operational.sign(csrPem, identity, [san], lifetimeSeconds);
    const record = recordIssued(ctx, chain, { deviceId: identity, kind: 'operational', via: 'service-team' }, req, event);
    const labelled = ctx.inventory.label(record.serial, 'service-team')!;
    return reply.code(201).send({
      ...describeRecord(labelled, ctx.now(), ctx.expiringWithinMs),
      certificateChainPem: chain,
      caPem: ctx.options.ca.rootPem,
      ...(privateKeyPem ? { privateKeyPem } : {}),
    });
  });

  admin.get('/api/v1/admin/legacy-credentials', async () => ({
    certificateRequiredFirmware: firmware.certificateRequiredFrom,
    credentials: ctx.legacy.list(),
  }));

  admin.post('/api/v1/admin/legacy-credentials', async (req, reply) => {
    const event = 'legacy-credential';
    const body = legacyBody.safeParse(req.body);
    if (!body.success) return refuse(ctx, reply, req, event, { reason: 'bad-request', message: z.prettifyError(body.error) }, { status: 400 });
    const { identity, firmwareVersion } = body.data;
    if (atLeast(firmwareVersion, firmware.certificateRequiredFrom)) {
      const message = `firmware ${firmwareVersion} must authenticate with a certificate (certificate authentication is required from ${firmware.certificateRequiredFrom}); issue a certificate instead`;
      return refuse(ctx, reply, req, event, { reason: 'certificate-required', message }, { status: 409, extra: { deviceId: identity } });
    }
    if (ctx.enrolments.rules.isApplication(identity)) {
      return refuse(ctx, reply, req, event, { reason: 'identity-reserved', message: `${identity} is an application identity: applications authenticate with certificates` }, { extra: { deviceId: identity } });
    }
    if (ctx.legacy.get(identity)) return refuse(ctx, reply, req, event, { reason: 'legacy-credential-exists', message: `${identity} already has a legacy credential; delete it to issue a new one` }, { status: 409, extra: { deviceId: identity } });
    const refused = takeIdentity(req, reply, event, identity);
    if (refused) return refused;
    const password = randomBytes(24).toString('base64url');
    await ctx.options.onLegacyCredential?.({ action: 'create', identity, password });
    ctx.legacy.add(identity, firmwareVersion, new Date(ctx.now()));
    ctx.audit.write({ event, decision: 'served', sourceIp: sourceIp(req), deviceId: identity, firmwareVersion });
    // The password is in this answer only: never logged, never stored by the service.
    return reply.code(201).send({ identity, username: identity, password, firmwareVersion });
  });

  admin.delete('/api/v1/admin/legacy-credentials/:identity', async (req, reply) => {
    const { identity } = req.params as { identity: string };
    if (!ctx.legacy.get(identity)) return refuse(ctx, reply, req, 'legacy-credential-deleted', { reason: 'unknown-identity', message: `${identity} has no legacy credential` }, { status: 404 });
    await ctx.options.onLegacyCredential?.({ action: 'delete', identity });
    ctx.legacy.remove(identity);
    ctx.audit.write({ event: 'legacy-credential-deleted', decision: 'served', sourceIp: sourceIp(req), deviceId: identity });
    return reply.code(204).send();
  });
}
