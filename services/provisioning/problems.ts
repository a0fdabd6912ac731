// Every error answer of the service is an RFC 9457 (ex-7807) problem document. `error` and
// `message` repeat `title` and `detail` for the clients and scripts written against the
// service's first answers ({"error", "message"}).
import type { FastifyReply } from 'fastify';

export function sendProblem(reply: FastifyReply, status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `urn:ecm-lab:problem:${code}`, title: code, status, detail: message, error: code, message, ...extra });
}
