// Generates the PKI one lab run uses and writes it where the components read it.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LabConfig } from '../../config/config.ts';
import { createIntermediateCa, createRootCa, type CaCertificate, type IssuedCertificate } from '../../x509/certificate-authority.ts';

/**
 * Two hierarchies (docs/trust-model.md). The operational one issues what authenticates on the
 * network (device and application certificates, every server certificate) and is all the broker
 * trusts; the bootstrap one issues only bootstrap credentials, which buy an operational
 * certificate from the X5C provisioner and are worth nothing anywhere else.
 */
export interface LabPki {
  /** The operational root: the lab's own (its key in the lab's memory only), or the external CA's (its key in that CA's process only). */
  root: CaCertificate;
  intermediate: IssuedCertificate;
  bootstrapRoot: IssuedCertificate;
  bootstrapIntermediate: IssuedCertificate;
}

export interface LabPkiFiles {
  dir: string;
  rootCert: string;
  intermediateCert: string;
  intermediateKey: string;
  /** Root then intermediate: what a peer needs to verify any operational leaf. */
  caBundle: string;
  bootstrapRootCert: string;
  bootstrapIntermediateCert: string;
  bootstrapIntermediateKey: string;
}

async function createHierarchy(config: LabConfig['pki'], label: string): Promise<{ root: IssuedCertificate; intermediate: IssuedCertificate }> {
  const root = await createRootCa({
    commonName: `${config.organization} ${label}Root CA`,
    organization: config.organization,
    algorithm: config.keyAlgorithm,
    validityDays: config.rootValidityDays,
  });
  const intermediate = await createIntermediateCa(root, {
    commonName: `${config.organization} ${label}Intermediate CA`,
    organization: config.organization,
    algorithm: config.keyAlgorithm,
    validityDays: config.intermediateValidityDays,
  });
  return { root, intermediate };
}

/** The operational hierarchy alone: a root rotation (UC-05) replaces it and leaves the bootstrap one. */
export const createOperationalHierarchy = (config: LabConfig['pki']) => createHierarchy(config, '');

/** The bootstrap hierarchy: always the lab's own (the seed's Provisioning Server), whoever signs the operational intermediate. */
export const createBootstrapHierarchy = (config: LabConfig['pki']) => createHierarchy(config, 'Bootstrap ');

/** Both hierarchies with the lab's own operational root, whose key the caller holds. */
export async function createLabPki(config: LabConfig['pki']): Promise<LabPki & { root: IssuedCertificate }> {
  const operational = await createOperationalHierarchy(config);
  const bootstrap = await createBootstrapHierarchy(config);
  return { ...operational, bootstrapRoot: bootstrap.root, bootstrapIntermediate: bootstrap.intermediate };
}

/** Where writeLabPki() puts each file. */
export function labPkiFiles(dir: string): LabPkiFiles {
  return {
    dir,
    rootCert: path.join(dir, 'root_ca.crt'),
    intermediateCert: path.join(dir, 'intermediate_ca.crt'),
    intermediateKey: path.join(dir, 'intermediate_ca.key'),
    caBundle: path.join(dir, 'ca_bundle.crt'),
    bootstrapRootCert: path.join(dir, 'bootstrap_root_ca.crt'),
    bootstrapIntermediateCert: path.join(dir, 'bootstrap_intermediate_ca.crt'),
    bootstrapIntermediateKey: path.join(dir, 'bootstrap_intermediate_ca.key'),
  };
}

/** Writes private keys 0600 inside a 0700 directory; the root keys are never written at all. */
export function writeLabPki(pki: LabPki, dir: string): LabPkiFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = labPkiFiles(dir);
  writeFileSync(files.rootCert, pki.root.certificatePem + '\n');
  writeFileSync(files.intermediateCert, pki.intermediate.certificatePem + '\n');
  writeFileSync(files.intermediateKey, pki.intermediate.privateKeyPem + '\n', { mode: 0o600 });
  writeFileSync(files.caBundle, `${pki.root.certificatePem}\n${pki.intermediate.certificatePem}\n`);
  writeFileSync(files.bootstrapRootCert, pki.bootstrapRoot.certificatePem + '\n');
  writeFileSync(files.bootstrapIntermediateCert, pki.bootstrapIntermediate.certificatePem + '\n');
  writeFileSync(files.bootstrapIntermediateKey, pki.bootstrapIntermediate.privateKeyPem + '\n', { mode: 0o600 });
  return files;
}
