// The simulated external CA's two listeners (net/external-ca-api.ts): plain HTTP for what is
// public and signed (root certificate, CRL), HTTPS for what needs a credential (intermediate
// orders by its clients, revocations by its operator). A management action on its own credential,
// as Pebble keeps management apart from the protocol. Every decision is one line of its log;
// no credential ever is.
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import * as jose from 'jose';
import { z } from 'zod';
import { CLIENT_TOKEN_MAX_AGE_SECONDS, CSR_DIGEST_CLAIM, csrDigest, EXTERNAL_CA_PATHS, EXTERNAL_REVOCATION_REASONS } from '../../net/external-ca-api.ts';
import { serverTlsOptions } from '../../net/tls-policy.ts';
import { CaRefusal, type ExternalCaStore } from './ca-store.ts';
import type { ExternalCaConfig } from './process-config.ts';

function problem(reply: FastifyReply, status: number, code: string, detail: string) {
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(status).type('application/problem+json').send({ type: `urn:ecm-lab:external-ca:problem:${code}`, title: code, status, detail });
}

function bearerOf(req: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

const orderBody = z.object({ csr: z.string().min(1).max(16 * 1024) }).strict();
const revocationBody = z
  .object({
    serial: z.string().regex(/^(0x)?[0-9a-fA-F:]+$/, 'must be a hexadecimal serial'),
    reason: z.enum(EXTERNAL_REVOCATION_REASONS).default('unspecified'),
  })
  .strict();

function parsed<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw new CaRefusal(400, 'bad-request', result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return result.data;
}

interface Client {
  name: string;
  kid: string | undefined;
  key: CryptoKey | Uint8Array;
}

export interface ExternalCaServers {
  publicUrl: string;
  apiUrl: string;
  close(): Promise<void>;
}

/**
 * Binds both listeners (a port 0 in `config` binds any port) and writes the ports it got into
 * `config`, which the store names in what it issues (its CRL's URL).
 */
export async function startExternalCaServers(store: ExternalCaStore, config: ExternalCaConfig, operatorToken: string, log: (line: string) => void): Promise<ExternalCaServers> {
  const clients: Client[] = await Promise.all(
    config.clients.map(async (c) => ({ name: c.name, kid: c.publicJwk.kid as string | undefined, key: await jose.importJWK(c.publicJwk as jose.JWK, 'ES256') })),
  );
  const operatorDigest = sha256(operatorToken);
  /** Token ids already honoured, until they expire: a captured order token cannot be played again. */
  const usedTokenIds = new Map<string, number>();

  /** The client a token was signed by, verified (`audience` when given); a CaRefusal otherwise. */
  async function verifiedClient(token: string, audience?: string): Promise<{ client: Client; payload: jose.JWTPayload }> {
    let kid: string | undefined;
    try {
      kid = jose.decodeProtectedHeader(token).kid;
    } catch {
      throw new CaRefusal(401, 'unauthenticated', 'the bearer credential is neither the operator token nor a client token');
    }
    const client = clients.find((c) => c.kid === kid);
    if (!client) throw new CaRefusal(401, 'unknown-client', 'the token is signed by a key this CA does not know');
    try {
      const { payload } = await jose.jwtVerify(token, client.key, { algorithms: ['ES256'], issuer: client.name, audience, maxTokenAge: CLIENT_TOKEN_MAX_AGE_SECONDS, requiredClaims: ['jti', 'iat', 'exp'] });
      return { client, payload };
    } catch (err) {
      throw new CaRefusal(401, 'bad-token', `the client token of ${client.name} is not valid here: ${(err as Error).message}`);
    }
  }

  function isOperator(bearer: string): boolean {
    return timingSafeEqual(sha256(bearer), operatorDigest);
  }

  const onError = (err: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof CaRefusal) {
      log(`refused ${req.method} ${req.url.split('?')[0]} from ${req.socket.remoteAddress}: ${err.status} ${err.code}: ${err.message}`);
      return problem(reply, err.status, err.code, err.message);
    }
    if (err.statusCode && err.statusCode < 500) return problem(reply, err.statusCode, 'bad-request', err.message);
    log(`internal error on ${req.method} ${req.url}: ${err.stack ?? err.message}`);
    return problem(reply, 500, 'internal', 'internal error; see the external CA log');
  };
  const notFound = (req: FastifyRequest, reply: FastifyReply) => problem(reply, 404, 'not-found', `${req.method} ${req.url.split('?')[0]} is not a route of this listener`);

  const publicApp = Fastify({ logger: false, bodyLimit: 1024 });
  const api = Fastify({ https: serverTlsOptions(await store.tlsCredentials()), logger: false, bodyLimit: 64 * 1024 });
  for (const app of [publicApp, api] as FastifyInstance[]) {
    app.setErrorHandler(onError);
    app.setNotFoundHandler(notFound);
  }

  publicApp.get(EXTERNAL_CA_PATHS.health, async () => ({ status: 'ok' }));
  publicApp.get(EXTERNAL_CA_PATHS.root, async (_req, reply) => reply.type('application/x-pem-file').send(store.rootPem));
  publicApp.get(EXTERNAL_CA_PATHS.crl, async (_req, reply) => reply.type('application/pkix-crl').send((await store.crl()).der));
  publicApp.get(EXTERNAL_CA_PATHS.crlPem, async (_req, reply) => reply.type('application/x-pem-file').send((await store.crl()).pem));

  api.post(EXTERNAL_CA_PATHS.intermediates, async (req, reply) => {
    const bearer = bearerOf(req);
    if (!bearer) throw new CaRefusal(401, 'unauthenticated', 'an order needs a client token (Authorization: Bearer)');
    const { client, payload } = await verifiedClient(bearer, `https://${config.host}:${config.apiPort}${EXTERNAL_CA_PATHS.intermediates}`);
    const now = Date.now();
    for (const [id, expires] of usedTokenIds) if (expires < now) usedTokenIds.delete(id);
    if (usedTokenIds.has(payload.jti!)) throw new CaRefusal(401, 'token-replayed', `this token of ${client.name} was used before`);
    usedTokenIds.set(payload.jti!, (payload.exp ?? 0) * 1000);
    const { csr } = parsed(orderBody, req.body);
    if (payload[CSR_DIGEST_CLAIM] !== csrDigest(csr)) throw new CaRefusal(401, 'token-not-for-this-csr', `the token of ${client.name} was signed for another CSR`);
    const ordered = await store.orderSubordinate(csr, client.name);
    log(`issued a subordinate CA to ${client.name}: serial ${ordered.serial}, path length 0`);
    return reply.code(201).send(ordered);
  });

  api.post(EXTERNAL_CA_PATHS.revocations, async (req, reply) => {
    const bearer = bearerOf(req);
    if (!bearer) throw new CaRefusal(401, 'unauthenticated', "a revocation needs the operator's token (Authorization: Bearer)");
    if (!isOperator(bearer)) {
      // A client of this CA is authenticated, but ordering is all it may do.
      const client = await verifiedClient(bearer).then(({ client }) => client, () => undefined);
      if (client) throw new CaRefusal(403, 'not-operator', `the credential of ${client.name} may order intermediates, not revoke: only the operator revokes`);
      throw new CaRefusal(401, 'unauthenticated', "the bearer credential is not the operator's token");
    }
    const { serial, reason } = parsed(revocationBody, req.body);
    const revoked = store.revoke(serial, reason);
    log(`the operator revoked serial ${revoked.serial} (${revoked.subject}), reason ${reason}`);
    return reply.code(200).send(revoked);
  });

  const close = async () => {
    await Promise.allSettled([publicApp.close(), api.close()]);
  };
  try {
    await api.listen({ host: config.host, port: config.apiPort });
    await publicApp.listen({ host: config.host, port: config.publicPort });
  } catch (err) {
    await close();
    throw err;
  }
  config.apiPort = (api.server.address() as { port: number }).port;
  config.publicPort = (publicApp.server.address() as { port: number }).port;
  return { publicUrl: `http://${config.host}:${config.publicPort}`, apiUrl: `https://${config.host}:${config.apiPort}`, close };
}
