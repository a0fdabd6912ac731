// The service engineer's API (NFR-USE-001) and page: ON/OFF with the auto-off timer, the white
// list (optionally naming the identity of an address), the inventory, the enrolments, revocation
// and the audit log. Everything under /api/v1/admin needs the bearer token.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { adminPageHtml } from '../admin-page.ts';
import { sourceIp, type ServiceContext } from '../context.ts';
import { describeRecord } from '../inventory.ts';
import { revokeRecord } from '../revocation.ts';
import { REVOCATION_REASONS, type RevocationReason } from '../step-ca-client.ts';
import { WhitelistError, parseWhitelist } from '../whitelist.ts';
import { sendProblem } from '../problems.ts';
import { registerServiceTeamRoutes } from './service-team.ts';

const stateBody = z.object({ enabled: z.boolean(), autoOffSeconds: z.number().positive().optional() }).strict();
/** Entries are strings ("127.0.0.5", "10.0.0.0/24", "127.0.0.5=RVS-0042") or {address, identity}. */
const whitelistEntry = z.union([z.string(), z.object({ address: z.string(), identity: z.string() }).strict().transform((e) => `${e.address}=${e.identity}`)]);
const whitelistBody = z.object({ entries: z.array(whitelistEntry) }).strict();
const revocationBody = z
  .object({
    serial: z.string().regex(/^(0x)?[0-9a-fA-F:]+$/, 'serial must be hexadecimal'),
    reason: z.enum(Object.keys(REVOCATION_REASONS) as [RevocationReason, ...RevocationReason[]]).default('unspecified'),
  })
  .strict();

function tokensEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function registerAdminRoutes(app: FastifyInstance, ctx: ServiceContext, adminToken: string): void {
  const badRequest = (reply: FastifyReply, error: z.ZodError) => sendProblem(reply, 400, 'bad-request', z.prettifyError(error));

  /** Names the white list may give an address: device identities, or the application's own. */
  function checkNamedIdentities(entries: string[]): void {
    const problems: string[] = [];
    for (const entry of parseWhitelist(entries).parsedEntries) {
      const identity = entry.identity;
      if (identity === undefined) continue;
      if (ctx.enrolments.rules.isReserved(identity) && !ctx.enrolments.rules.isApplication(identity)) {
        problems.push(`"${entry.text.trim()}": ${identity} is reserved for the lab's own servers and clients and cannot be given to an address`);
      }
    }
    if (problems.length > 0) throw new WhitelistError(problems);
  }

  function requireAdmin(req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) {
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (token && tokensEqual(token, adminToken)) return done();
    ctx.audit.write({ event: 'admin-auth', decision: 'refused', sourceIp: sourceIp(req), reason: token ? 'wrong-token' : 'no-token', path: req.url });
    void sendProblem(reply.header('www-authenticate', 'Bearer realm="ecm-lab provisioning admin"'), 401, 'unauthorized', token ? 'the admin token is wrong' : 'admin endpoints need Authorization: Bearer <token>');
  }

  app.get('/admin', async (_req, reply) => reply.type('text/html; charset=utf-8').send(adminPageHtml));
  app.register(async (admin) => {
    admin.addHook('onRequest', requireAdmin);
    admin.get('/api/v1/admin/state', async () => ctx.state.snapshot());
    admin.put('/api/v1/admin/state', async (req, reply) => {
      const body = stateBody.safeParse(req.body);
      if (!body.success) return badRequest(reply, body.error);
      if (body.data.enabled) return ctx.state.enable({ autoOffSeconds: body.data.autoOffSeconds });
      ctx.state.disable('turned OFF by an administrator');
      return ctx.state.snapshot();
    });
    admin.get('/api/v1/admin/whitelist', async () => ({ entries: ctx.state.whitelist.entries }));
    admin.put('/api/v1/admin/whitelist', async (req, reply) => {
      const body = whitelistBody.safeParse(req.body);
      if (!body.success) return badRequest(reply, body.error);
      checkNamedIdentities(body.data.entries);
      return { entries: ctx.state.setWhitelist(body.data.entries).entries };
    });
    admin.get('/api/v1/admin/inventory', async (req) => {
      const { deviceId } = req.query as { deviceId?: string };
      const records = deviceId ? ctx.inventory.byDevice(deviceId) : ctx.inventory.list();
      return { expiringWithinSeconds: ctx.expiringWithinMs / 1000, certificates: records.map((r) => describeRecord(r, ctx.now(), ctx.expiringWithinMs)) };
    });
    admin.get('/api/v1/admin/enrolments', async () => ({ enrolments: ctx.enrolments.list() }));
    // A replaced device: its identity may be enrolled again, by a new credential from any address.
    admin.delete('/api/v1/admin/enrolments/:identity', async (req, reply) => {
      const { identity } = req.params as { identity: string };
      if (!ctx.enrolments.release(identity)) return sendProblem(reply, 404, 'unknown-identity', `${identity} is not enrolled`);
      ctx.audit.write({ event: 'enrolment-released', decision: 'served', sourceIp: sourceIp(req), deviceId: identity });
      return reply.code(204).send();
    });
    admin.post('/api/v1/admin/revocations', async (req, reply) => {
      const body = revocationBody.safeParse(req.body);
      if (!body.success) return badRequest(reply, body.error);
      const record = ctx.inventory.get(body.data.serial);
      if (!record) return sendProblem(reply, 404, 'unknown-serial', `no certificate with serial ${body.data.serial} in the inventory`);
      if (record.status === 'revoked') return sendProblem(reply, 409, 'already-revoked', `certificate ${record.serial} is already revoked`);
      const revoked = await revokeRecord(ctx, record, body.data.reason, { sourceIp: sourceIp(req), trigger: 'admin' });
      return describeRecord(revoked, ctx.now(), ctx.expiringWithinMs);
    });
    registerServiceTeamRoutes(admin, ctx);
    admin.get('/api/v1/admin/audit', async (req) => {
      const limit = Math.min(Number((req.query as { limit?: string }).limit ?? 100) || 100, 1000);
      return { records: ctx.audit.recent(limit) };
    });
  });
}
