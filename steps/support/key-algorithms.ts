// Seed 001 §6.3 (RSA 2048 minimum) checked end to end: the algorithm of every key and certificate
// of an installation, read from the certificates the clients hold and the listeners serve (not
// from the configuration), and that each certificate is signed by the key of its issuer.
import { createPrivateKey } from 'node:crypto';
import { peerCertificateChain } from '../../net/peer-certificates.ts';
import { certificatePublicKey, commonName, keyAlgorithmOf, parseCertificate, splitPemChain } from '../../x509/certificates.ts';
import type { LabWorld } from './world.ts';

export interface KeyFact {
  what: string;
  algorithm: string;
}

/** Every certificate of a chain (leaf first, ending at `rootPem`): its key, and that its issuer's key signed it. */
function chainFacts(label: string, chainPems: string[], rootPem: string, facts: KeyFact[], skipLeafKey = false): void {
  const chain = [...chainPems.map((pem) => parseCertificate(pem))];
  const root = parseCertificate(rootPem);
  if (chain.at(-1)?.fingerprint256 !== root.fingerprint256) chain.push(root);
  chain.forEach((cert, i) => {
    const issuer = chain[i + 1] ?? cert;
    if (!cert.verify(issuer.publicKey)) throw new Error(`${label}: ${commonName(cert.subject)} is not signed by ${commonName(issuer.subject)}`);
    if (i === 0 && skipLeafKey) return;
    facts.push({ what: `${label}: ${commonName(cert.subject)}${i === 0 ? '' : ' (issuer)'}`, algorithm: keyAlgorithmOf(cert.publicKey) });
  });
}

/** The keys of every client of the scenario and of the broker, the service and step-ca as they serve TLS. */
export async function installationKeyAlgorithms(world: LabWorld): Promise<{ facts: KeyFact[]; notes: string[] }> {
  const { lab } = world.session;
  const rootPem = world.session.endpoints.trustedRootPem;
  const facts: KeyFact[] = [];
  const notes: string[] = [];
  for (const client of world.allClients()) {
    for (const [kind, pair] of [['operational', client.store.loadOperational()], ['bootstrap', client.store.loadBootstrap()]] as const) {
      if (!pair) throw new Error(`${client.commonName} holds no ${kind} certificate`);
      facts.push({ what: `${client.commonName} ${kind} private key`, algorithm: keyAlgorithmOf(createPrivateKey(pair.privateKeyPem)) });
      chainFacts(`${client.commonName} ${kind}`, splitPemChain(pair.certificateChainPem), kind === 'operational' ? client.trustedRootPem : world.session.endpoints.bootstrapRootPem, facts);
    }
  }
  const credential = world.devices.map((d) => d.store.loadOperational()).find((pair) => pair !== undefined);
  if (!credential) throw new Error('no device of the scenario holds an operational certificate to reach the broker with');
  const broker = await peerCertificateChain({ host: lab.broker.host, port: lab.broker.port, ca: rootPem, cert: credential.certificateChainPem, key: credential.privateKeyPem });
  chainFacts('broker TLS', broker, rootPem, facts);
  const service = new URL(lab.provisioning.url);
  chainFacts('provisioning service TLS', await peerCertificateChain({ host: service.hostname, port: Number(service.port), ca: rootPem }), rootPem, facts);
  const caUrl = new URL(lab.ca.url);
  const stepCa = await peerCertificateChain({ host: caUrl.hostname, port: Number(caUrl.port), ca: rootPem });
  // step-ca makes its own TLS key, always ECDSA P-256 (keyutil.GenerateDefaultKey in
  // authority/tls.go): not configurable, so only its signature, by the intermediate, is checked.
  chainFacts('step-ca TLS', stepCa, rootPem, facts, true);
  notes.push(`step-ca's own TLS key: ${keyAlgorithmOf(certificatePublicKey(stepCa[0]!))} (step-ca's choice), signed by the intermediate`);
  return { facts, notes };
}
