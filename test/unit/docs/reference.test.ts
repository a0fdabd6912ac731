// The reference is generated from the code (scripts/generate-reference.ts): the committed files
// must be what the code renders now, and the JSON Schema editors read must judge a config file
// as the zod schema does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { repoRoot } from '../../../environments/tools/tools.ts';
import { labConfigSchema } from '../../../config/schema.ts';
import { renderReference } from '../../../scripts/generate-reference.ts';

test('docs/reference is what the CLI and the config schema render now', () => {
  for (const [file, text] of Object.entries(renderReference())) {
    const committed = readFileSync(path.join(repoRoot, file), 'utf8');
    assert.ok(committed === text, `${file} is not current: run \`npm run docs:reference\` and commit what it writes`);
  }
});

test('the CLI reference names every command and option, the configuration reference every key', () => {
  const files = renderReference();
  const cli = files['docs/reference/cli.md']!;
  for (const heading of ['### ecm-lab run', '### ecm-lab load', '### ecm-lab report merge', '### ecm-lab compose']) assert.ok(cli.includes(`\n${heading}\n`), heading);
  for (const option of ['`--sign-at <where>`', '`--junit <file>`', '`--no-pdf`', '`-V, --version`']) assert.ok(cli.includes(option), option);
  assert.ok(!/`--target <where>`/.test(cli), "load's old --target is hidden");
  const config = files['docs/reference/configuration.md']!;
  for (const key of ['`readinessTimeoutMs`', '`ca.operationalCertDuration`', '`provisioning.externalCrlCheckIntervalMs`', '`renewal.alertDays`']) assert.ok(config.includes(`| ${key} |`), key);
  assert.match(config, /\| `ca\.operationalCertDuration` \| Go duration[^|]*\| `"24h"` \| `ECM_LAB_OPERATIONAL_CERT_DURATION` \|/);
  assert.match(config, /\| `broker\.crlRefreshIntervalMs` \| [^|]+ \| `0` \|/, 'a default of 0 is shown too');
});

test('the JSON Schema for editors accepts and refuses config files as the zod schema does', () => {
  const schema = JSON.parse(renderReference()['docs/reference/ecm-lab.config.schema.json']!) as object;
  const validate = new Ajv2020({ strict: false }).compile(schema);
  const samples: unknown[] = [
    { $schema: './docs/reference/ecm-lab.config.schema.json', pki: { keyAlgorithm: 'rsa-2048' }, ca: { operationalCertDuration: '48h' } },
    { readinessTimeoutMs: '1m30s', clock: { dayMs: 1500 }, provisioning: { expiringWithinSeconds: '2h' } },
    { ca: { operationalCertDuration: 'tomorrow' } },
    { ca: { bogus: 1 } },
    { brokr: {} },
    { readinessTimeoutMs: 'soon' },
    { broker: { host: '10.0.0.1' } },
    { pki: { keyAlgorithm: 'rsa-1024' } },
  ];
  for (const sample of samples) {
    assert.equal(validate(sample), labConfigSchema.safeParse(sample).success, `${JSON.stringify(sample)}: the JSON Schema and zod disagree`);
  }
  assert.equal(validate(samples[0]), true, 'a good file is accepted');
});
