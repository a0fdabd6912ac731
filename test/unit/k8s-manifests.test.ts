// The Kubernetes manifests (deploy/k8s/), checked offline (no cluster): every document against the
// Kubernetes API subset they use (deploy/k8s/schema/kubernetes-subset.schema.json, closed, so a
// misspelt field fails), and the fleet's wiring across files: the lab writes its description on
// the shared volume where the segments read it, the segments run on the lab's node and network,
// and the merge step joins exactly the segments the Job runs. The pods' ecm-lab command lines
// are checked against the CLI in k8s-commands.test.ts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
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
  const job = find(docs, 'Job', 'ecm-lab-fleet');
  const merge = find(docs, 'Job', 'ecm-lab-fleet-merge');
  const lab = deployment.spec.template.spec.containers[0];
  const segment = job.spec.template.spec.containers[0];
  const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;

  check(Object.entries(deployment.spec.selector.matchLabels).every(([k, v]) => podLabels[k] === v), "the Deployment's selector matches its own pods");
  // The lab's configuration as it starts in its pod.
  const raw = JSON.parse(find(docs, 'ConfigMap', 'ecm-lab-config').data['lab.json']) as Record<string, any>;
  try {
    parseConfig(raw, 'the lab ConfigMap');
  } catch (err) {
    check(false, (err as Error).message.replace(/\s+/g, ' '));
  }
  check(/up --json --serve-challenges > "\$DESCRIPTION"/.test(argsOf(lab)) && /umask 077/.test(argsOf(lab)), 'the lab writes its description (0600) to $DESCRIPTION with up --json --serve-challenges');
  const mountOf = (c: Doc, claimOwner: Doc) => {
    const volume = (claimOwner.spec.template.spec.volumes as Doc[]).find((v) => v.persistentVolumeClaim?.claimName === 'ecm-lab-state');
    return (c.volumeMounts as Doc[]).find((m) => m.name === volume?.name)?.mountPath as string | undefined;
  };
  const labMount = mountOf(lab, deployment);
  const description = envOf(lab, 'DESCRIPTION')?.value as string | undefined;
  check(labMount !== undefined && description !== undefined && description.startsWith(`${labMount}/`), `the lab's description ${description} is on the shared volume ecm-lab-state (${labMount})`);
  check(mountOf(segment, job) === labMount, `the segments mount ecm-lab-state where the lab does (${mountOf(segment, job)} vs ${labMount}): the description's paths are the lab's`);
  check(envOf(segment, 'LAB')?.value === description, `the segments read the lab's description (${envOf(segment, 'LAB')?.value} vs ${description})`);
  check(/--lab "\$LAB"/.test(argsOf(segment)), 'the segments attach with --lab "$LAB"');
  const affinity = job.spec.template.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0];
  check(affinity?.topologyKey === 'kubernetes.io/hostname' && Object.entries(affinity.labelSelector.matchLabels).every(([k, v]) => podLabels[k] === v), "the segments run on the lab's node (their devices' loopback addresses are the lab's)");
  check(job.spec.template.spec.hostNetwork === true && deployment.spec.template.spec.hostNetwork === true, "the lab and the segments share the node's network");

  const segments = Number(envOf(segment, 'SEGMENTS')?.value);
  check(job.spec.completionMode === 'Indexed' && job.spec.completions === segments && job.spec.parallelism === segments, `an Indexed Job of SEGMENTS=${segments} pods, all at once (completions ${job.spec.completions}, parallelism ${job.spec.parallelism})`);
  check(/--segment "\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\/\$SEGMENTS"/.test(argsOf(segment)), 'pod k runs segment k+1 of SEGMENTS');

  const mergeContainer = merge.spec.template.spec.containers[0];
  check(Number(envOf(mergeContainer, 'SEGMENTS')?.value) === segments && envOf(mergeContainer, 'RUN')?.value === envOf(segment, 'RUN')?.value, 'the merge joins the same run and the same number of segments');
  check(/--run-id "\$RUN-seg-\$JOB_COMPLETION_INDEX"/.test(argsOf(segment)) && /\/reports\/\$RUN-seg-%g" 0 \$\(\(SEGMENTS - 1\)\)/.test(argsOf(mergeContainer)), "the merge reads exactly the segments' report directories");
  const claim = (j: Doc) => j.spec.template.spec.volumes.find((v: Doc) => v.persistentVolumeClaim?.claimName === 'ecm-lab-reports')?.persistentVolumeClaim.claimName;
  check(claim(job) !== undefined && claim(job) === claim(merge), 'the segments and the merge share the reports volume');
  check(new Set([lab.image, segment.image, mergeContainer.image]).size === 1, 'one image for the lab, the segments and the merge');
  return problems;
}

test('every manifest of deploy/k8s is valid for the Kubernetes API subset it uses', () => {
  const docs = documents();
  assert.ok(docs.length >= 4, `${docs.length} documents`);
  assert.deepEqual(schemaProblems(docs), []);
});

test('a misspelt field, a wrong kind of value or an unknown kind fails the schema check', () => {
  const docs = documents();
  const job = structuredClone(docs.find((d) => d.doc.kind === 'Job')!);
  job.doc.spec.completionsCount = 4;
  job.doc.spec.template.spec.containers[0].env.push({ name: 'X' });
  const service = { file: 'x.yaml', doc: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ecm-lab' }, spec: { selector: { a: 'b' }, ports: [{ port: '8080' }] } } };
  const problems = schemaProblems([job, service, { file: 'x.yaml', doc: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} } }]);
  assert.ok(problems.some((p) => /must NOT have additional properties \(completionsCount\)/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /\/env\/\d+: must match exactly one schema/.test(p) || /must have required property 'value'/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /Service\/ecm-lab \/spec\/ports\/0\/port: must be integer/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /^x\.yaml Pod\/p/.test(p)), problems.join('\n'));
});

test('the lab, the segments and the merge are wired to each other', () => {
  assert.deepEqual(wiringProblems(documents()), []);
});

test('the wiring check names a segment Job that reads another description, runs elsewhere, or a merge of another count', () => {
  const docs = documents().map((d) => structuredClone(d));
  const job = docs.find((d) => d.doc.kind === 'Job' && d.doc.metadata.name === 'ecm-lab-fleet')!.doc;
  envOf(job.spec.template.spec.containers[0], 'LAB')!.value = '/tmp/lab.json';
  delete job.spec.template.spec.affinity;
  const merge = docs.find((d) => d.doc.metadata.name === 'ecm-lab-fleet-merge')!.doc;
  envOf(merge.spec.template.spec.containers[0], 'SEGMENTS')!.value = '3';
  const problems = wiringProblems(docs);
  assert.ok(problems.some((p) => p.startsWith("the segments read the lab's description (/tmp/lab.json")), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith("the segments run on the lab's node")), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('the merge joins the same run and the same number of segments')), problems.join('\n'));
});
