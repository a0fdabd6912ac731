// Allure groups the report by requirement: every requirement tag of a scenario (@FR-PS-002 ...)
// becomes an epic label "FR-PS-002 Provisioning Service SHALL implement IP address whitelisting",
// with the seeds' title from evidence/requirements.json, and allurerc.mjs groups the tree by
// epic, then by the Gherkin feature. allure-cucumberjs can turn tags into labels by pattern
// (formatOptions.labels), but only with the tag's own text as the value; a title needs the
// runtime API. Requirements are one layer on purpose: Allure files a test under every value of
// every grouping label, so a scenario proving UC-03 and NFR-REL-001 under an epic "use cases"
// and a feature per id would also appear as NFR-REL-001 under "use cases".
import 'allure-cucumberjs';
import { Before } from '@cucumber/cucumber';
import { epic } from 'allure-js-commons';
import { idOfTag } from '../../evidence/requirement-ids.ts';
import { requirementById } from '../../evidence/requirements.ts';

const catalogue = requirementById();

/** The epic label of a requirement, as the Allure tree shows it. */
export const epicOf = (id: string): string => `${id} ${catalogue.get(id)?.title ?? ''}`.trim();

Before({ name: 'Allure: an epic per requirement tag' }, async function ({ pickle }) {
  for (const tag of pickle.tags) {
    const id = idOfTag(tag.name);
    // An id the seeds do not define is refused by test/unit/evidence/tags.test.ts; no label for it.
    if (id && catalogue.has(id)) await epic(epicOf(id));
  }
});
