// The gate in front of step-ca's ACME provisioner: requests are checked against the ON/OFF
// state and the white list by their real source address before step-ca sees them, then
// forwarded unchanged. The Host header is kept, because step-ca builds every ACME URL (and
// checks every JWS "url") from it: clients stay on the gate without any URL rewriting.
import type { IncomingHttpHeaders } from 'node:http';
import { request, type HttpResponse } from '../../net/https-client.ts';
import { stepCaAgent } from '../../net/step-ca-api.ts';

/** Hop-by-hop headers (RFC 9110 §7.6.1) are the gate's own business, not step-ca's. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length']);

/** True for headers that belong to one connection (either direction), never forwarded. */
export const isHopByHop = (name: string): boolean => HOP_BY_HOP.has(name);

export interface ForwardTarget {
  /** step-ca's origin, e.g. https://127.0.0.1:9000 */
  origin: string;
  rootPem: string;
}

export function forwardableHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export async function forwardToCa(
  target: ForwardTarget,
  incoming: { method: string; url: string; headers: IncomingHttpHeaders; body?: Buffer },
): Promise<HttpResponse> {
  return request(`${target.origin}${incoming.url}`, {
    method: incoming.method,
    headers: forwardableHeaders(incoming.headers),
    // A body on GET or HEAD means nothing (RFC 9110 §9.3.1) and step-ca does not read it: on a
    // kept-alive connection it would be taken for the start of the next request.
    body: incoming.body && incoming.body.length > 0 && incoming.method !== 'GET' && incoming.method !== 'HEAD' ? incoming.body : undefined,
    ca: target.rootPem,
    servername: 'localhost',
    agent: gateAgentFor(target),
  });
}

const gateAgents = new Map<string, ReturnType<typeof stepCaAgent>>();

function gateAgentFor(target: ForwardTarget) {
  const key = `${target.origin}\n${target.rootPem}`;
  let agent = gateAgents.get(key);
  if (!agent) gateAgents.set(key, (agent = stepCaAgent(target.rootPem)));
  return agent;
}

/** An RFC 8555 §6.7 problem document, which ACME clients show to their users. */
export function acmeProblem(type: 'unauthorized' | 'rejectedIdentifier' | 'serverInternal' | 'malformed', detail: string, status: number) {
  return { type: `urn:ietf:params:acme:error:${type}`, detail, status };
}

/**
 * step-ca builds every ACME URL from the Host header, so the gate forwards only requests addressed
 * to the gate itself (its listen address, or loopback's names): a forged Host would make step-ca
 * hand out URLs of another server.
 */
export function hostIsGate(host: string | undefined, gatePort: number, listenHost = '127.0.0.1'): boolean {
  return [listenHost, '127.0.0.1', 'localhost'].some((name) => host === `${name}:${gatePort}`);
}
