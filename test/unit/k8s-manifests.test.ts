// The Kubernetes manifests (deploy/k8s/), checked offline (no cluster): every document against the
// Kubernetes API subset they use (deploy/k8s/schema/kubernetes-subset.schema.json, closed, so a
// misspelt field fails), and the distributed fleet's wiring across files: the segments reach the
// lab's Service where it publishes its description, share its admin Secret, their device blocks
// lie in the lab's device network, and the merge step joins exactly the segments the Job runs.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import ipaddr from 'ipaddr.js';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../config/config.ts';
import { repoRoot } from '../../environments/tools/tools.ts';

const DIR = path.join(repoRoot, 'deploy/k8s');
const schema = JSON.parse(readFileSync(path.join(DIR, 'schema/kubernetes-subset.schema.json'), 'utf8')) as object;

type Doc = Record<string, any>;

function documents(): Array<{ file: string; doc: Doc }> {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((d) => {
        if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
        return { file, doc: d.toJS() as Doc };
      }),
    );
}

/** Problems of one document against the subset, as "<file> <kind>/<name> <path>: <message>". */
function schemaProblems(docs: Array<{ file: string; doc: Doc }>): string[] {
  const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
  const valid = (doc: Doc): boolean => validate(doc);
  return docs.flatMap(({ file, doc }) =>
    valid(doc) ? [] : (validate.errors ?? []).map((e) => `${file} ${doc.kind}/${doc.metadata?.name} ${e.instancePath || '/'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`),
  );
}

const find = (docs: Array<{ doc: Doc }>, kind: string, name: string): Doc => {
  const found = docs.find((d) => d.doc.kind === kind && d.doc.metadata.name === name)?.doc;
  assert.ok(found, `deploy/k8s has a ${kind} ${name}`);
  return found;
};
const envOf = (container: Doc, name: string) => (container.env as Doc[]).find((e) => e.name === name);
const argsOf = (container: Doc) => [...(container.command ?? []), ...(container.args ?? [])].join(' ');

/** What the distributed fleet's files must agree on (fleet-segments-job.yaml, lab.yaml, merge-job.yaml). */
function wiringProblems(docs: Array<{ doc: Doc }>): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, message: string) => ok || problems.push(message);
  const deployment = find(docs, 'Deployment', 'ecm-lab');
  const service = find(docs, 'Service', 'ecm-lab');
  const job = find(docs, 'Job', 'ecm-lab-fleet');
  const merge = find(docs, 'Job', 'ecm-lab-fleet-merge');
  const config = JSON.parse(find(docs, 'ConfigMap', 'ecm-lab-config').data['lab.json']) as { trust: { deviceNetwork: string } };
  const lab = deployment.spec.template.spec.containers[0];
  const segment = job.spec.template.spec.containers[0];
  const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;

  check(Object.entries(service.spec.selector).every(([k, v]) => podLabels[k] === v), `the Service's selector ${JSON.stringify(service.spec.selector)} matches the lab's pods ${JSON.stringify(podLabels)}`);
  check(Object.entries(deployment.spec.selector.matchLabels).every(([k, v]) => podLabels[k] === v), "the Deployment's selector matches its own pods");
  const servicePort = service.spec.ports[0];
  const containerPort = (lab.ports as Doc[]).find((p) => p.name === servicePort.targetPort || p.containerPort === servicePort.targetPort);
  check(containerPort !== undefined, `the Service's targetPort ${servicePort.targetPort} is a port of the lab's container`);
  const served = /--serve-description (\d+)/.exec(argsOf(lab))?.[1];
  check(served !== undefined && Number(served) === containerPort?.containerPort, `the lab serves its description on its container port (${served} vs ${containerPort?.containerPort})`);
  check(envOf(lab, 'ECM_LAB_LISTEN_ADDRESS')?.valueFrom?.fieldRef?.fieldPath === 'status.podIP', "the lab listens on its pod's address");
  // The lab's configuration as it starts in its pod: the ConfigMap with a pod's address to listen on.
  const raw = JSON.parse(find(docs, 'ConfigMap', 'ecm-lab-config').data['lab.json']) as Record<string, any>;
  try {
    parseConfig({ ...raw, lab: { ...raw.lab, listenAddress: '10.244.1.7' } }, 'the lab ConfigMap with a pod address');
  } catch (err) {
    check(false, (err as Error).message.replace(/\s+/g, ' '));
  }

  const labUrl = new URL(envOf(segment, 'LAB')?.value ?? 'http://missing');
  check(labUrl.hostname === service.metadata.name && Number(labUrl.port) === servicePort.port && labUrl.pathname === '/lab.json', `the segments read the description at the Service (${labUrl.href} vs ${service.metadata.name}:${servicePort.port}/lab.json)`);
  check(/--lab "\$LAB"/.test(argsOf(segment)), 'the segments attach with --lab "$LAB"');
  const secret = (c: Doc) => JSON.stringify(envOf(c, 'ECM_LAB_ADMIN_TOKEN')?.valueFrom?.secretKeyRef);
  check(secret(segment) !== undefined && secret(segment) === secret(lab), 'the segments and the lab share the admin token Secret');

  const segments = Number(envOf(segment, 'SEGMENTS')?.value);
  check(job.spec.completionMode === 'Indexed' && job.spec.completions === segments && job.spec.parallelism === segments, `an Indexed Job of SEGMENTS=${segments} pods, all at once (completions ${job.spec.completions}, parallelism ${job.spec.parallelism})`);
  check(/--segment "\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\/\$SEGMENTS"/.test(argsOf(segment)), 'pod k runs segment k+1 of SEGMENTS');
  const clientNetwork = /--client-network (\S+)/.exec(argsOf(segment))?.[1] ?? '';
  const within = (inner: string, outer: string) => {
    const [a, aBits] = ipaddr.parseCIDR(inner);
    const [b, bBits] = ipaddr.parseCIDR(outer);
    return aBits >= bBits && a.match(b, bBits);
  };
  check(/\/16$/.test(clientNetwork) && within(clientNetwork, config.trust.deviceNetwork), `the segments' client network ${clientNetwork} is a /16 inside the lab's device network ${config.trust.deviceNetwork}`);
  const block = /local (\d+\.\d+)\.\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\.0\/24 dev lo/.exec(argsOf(job.spec.template.spec.initContainers[0]))?.[1];
  check(block !== undefined && clientNetwork.startsWith(`${block}.`), `segment k's device block is <client network>.(k+1).0/24 (${block} vs ${clientNetwork})`);
  check(job.spec.template.spec.hostNetwork === true, "the segments use their node's network (their device blocks are local to it)");

  const mergeContainer = merge.spec.template.spec.containers[0];
  check(Number(envOf(mergeContainer, 'SEGMENTS')?.value) === segments && envOf(mergeContainer, 'RUN')?.value === envOf(segment, 'RUN')?.value, 'the merge joins the same run and the same number of segments');
  check(/--run-id "\$RUN-seg-\$JOB_COMPLETION_INDEX"/.test(argsOf(segment)) && /\/reports\/\$RUN-seg-%g" 0 \$\(\(SEGMENTS - 1\)\)/.test(argsOf(mergeContainer)), "the merge reads exactly the segments' report directories");
  const claim = (j: Doc) => j.spec.template.spec.volumes.find((v: Doc) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName;
  check(claim(job) !== undefined && claim(job) === claim(merge), 'the segments and the merge share the reports volume');
  check(new Set([lab.image, segment.image, mergeContainer.image]).size === 1, 'one image for the lab, the segments and the merge');
  return problems;
}

test('every manifest of deploy/k8s is valid for the Kubernetes API subset it uses', () => {
  const docs = documents();
  assert.ok(docs.length >= 5, `${docs.length} documents`);
  assert.deepEqual(schemaProblems(docs), []);
});

test('a misspelt field, a wrong kind of value or an unknown kind fails the schema check', () => {
  const docs = documents();
  const job = structuredClone(docs.find((d) => d.doc.kind === 'Job')!);
  job.doc.spec.completionsCount = 4;
  job.doc.spec.template.spec.containers[0].env.push({ name: 'X' });
  const service = structuredClone(docs.find((d) => d.doc.kind === 'Service')!);
  service.doc.spec.ports[0].port = '8080';
  const problems = schemaProblems([job, service, { file: 'x.yaml', doc: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} } }]);
  assert.ok(problems.some((p) => /must NOT have additional properties \(completionsCount\)/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /\/env\/\d+: must match exactly one schema/.test(p) || /must have required property 'value'/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /Service\/ecm-lab \/spec\/ports\/0\/port: must be integer/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /^x\.yaml Pod\/p/.test(p)), problems.join('\n'));
});

test('the lab, the segments and the merge are wired to each other', () => {
  assert.deepEqual(wiringProblems(documents()), []);
});

test('the wiring check names a segment Job that reads another address, a block outside the device network, or a merge of another count', () => {
  const docs = documents().map((d) => structuredClone(d));
  const job = docs.find((d) => d.doc.kind === 'Job' && d.doc.metadata.name === 'ecm-lab-fleet')!.doc;
  envOf(job.spec.template.spec.containers[0], 'LAB')!.value = 'http://ecm-lab:9090/lab.json';
  job.spec.template.spec.containers[0].args[0] = job.spec.template.spec.containers[0].args[0].replace('198.18.0.0/16', '10.1.0.0/16');
  const merge = docs.find((d) => d.doc.metadata.name === 'ecm-lab-fleet-merge')!.doc;
  envOf(merge.spec.template.spec.containers[0], 'SEGMENTS')!.value = '3';
  const problems = wiringProblems(docs);
  assert.ok(problems.some((p) => p.startsWith('the segments read the description at the Service (http://ecm-lab:9090/lab.json')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith("the segments' client network 10.1.0.0/16 is a /16 inside")), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('the merge joins the same run and the same number of segments')), problems.join('\n'));
});
