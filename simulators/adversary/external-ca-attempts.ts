// Attacks on the external CA of ca.issuer 'external' (UC-04): what an attacker gets with the
// certificate management service's credential, and what an impostor at the CRL's address achieves.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { StartedLocalLab } from '../../environments/local/local-environment.ts';
import { EXTERNAL_CA_CLIENT } from '../../environments/local/local-environment.ts';
import { createRootCa } from '../../x509/certificate-authority.ts';
import { createCrl } from '../../x509/crl-signing.ts';
import { clientToken, EXTERNAL_CA_PATHS, requestRevocation } from '../../net/external-ca-api.ts';
import { EXTERNAL_CA_CLIENT_KEY_FILE } from '../../services/provisioning/process-protocol.ts';
import type { ServiceSigningKey } from '../../services/provisioning/signing-key.ts';
import { decodeCertificate, x509 } from '../../x509/x509.ts';

function externalCaOf(lab: StartedLocalLab) {
  if (!lab.externalCa) throw new Error("this lab has no external CA (ca.issuer 'lab')");
  return lab.externalCa;
}

/**
 * An attacker who copied the service's key file (the credential it orders intermediates with)
 * asks the external CA to revoke `serial` with it. Returns the CA's answer.
 */
export async function revokeWithStolenServiceCredential(lab: StartedLocalLab, serial: string): Promise<{ status: number; code: string; detail: string }> {
  const ca = externalCaOf(lab);
  const stolen = JSON.parse(readFileSync(path.join(lab.workDir, 'provisioning', EXTERNAL_CA_CLIENT_KEY_FILE), 'utf8')) as ServiceSigningKey;
  const token = await clientToken({ privateJwk: stolen.privateJwk, issuer: EXTERNAL_CA_CLIENT, audience: `${ca.apiUrl}${EXTERNAL_CA_PATHS.revocations}` });
  const res = await requestRevocation({ apiUrl: ca.apiUrl, rootPem: ca.rootPem, bearer: token, serial, reason: 'cACompromise' });
  const problem = res.status === 200 ? { title: 'revoked', detail: '' } : res.json<{ title: string; detail: string }>();
  return { status: res.status, code: problem.title, detail: problem.detail };
}

export interface ImpostorCrlServer {
  /** How many times the impostor served its CRL. */
  readonly served: number;
  stop(): Promise<void>;
}

/**
 * An impostor answering at the external CA's public address (the CA is down, or the attacker is on
 * the path) with a CRL that names the external root as issuer and revokes the lab's intermediate,
 * signed by a key of its own: only the signature can betray it.
 */
export async function startImpostorCrlServer(lab: StartedLocalLab, intermediateSerial: string): Promise<ImpostorCrlServer> {
  const ca = externalCaOf(lab);
  const root = decodeCertificate(ca.rootPem);
  const subject = new x509.Name(root.subject);
  const lookalike = await createRootCa({ commonName: subject.getField('CN')[0]!, organization: subject.getField('O')[0]!, algorithm: lab.config.pki.keyAlgorithm, validityDays: 1 });
  if (lookalike.certificate.subject !== root.subject) throw new Error(`the impostor could not copy the root's name (${root.subject})`);
  const crlPem = await createCrl(lookalike, [{ serial: intermediateSerial, reason: x509.X509CrlReason.cACompromise }], { crlNumber: 1_000_000 });
  const der = Buffer.from(x509.PemConverter.decodeFirst(crlPem));
  const url = new URL(ca.crlUrl);
  let served = 0;
  const server = http.createServer((req, res) => {
    if (req.url === EXTERNAL_CA_PATHS.crl) {
      served += 1;
      res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(der);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(url.port), url.hostname, resolve));
  return {
    get served() {
      return served;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
