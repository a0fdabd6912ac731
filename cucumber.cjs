// cucumber-js configuration: every report goes under reports/ (or the directory of
// `ecm-lab run --out`, ECM_LAB_REPORTS_DIR), JUnit XML included. Step definitions are TypeScript,
// loaded through tsx (ecm-lab run starts cucumber with `node --import tsx`).
const os = require('node:os');
const path = require('node:path');
const versions = require('./environments/tools/versions.json');

const reports = process.env.ECM_LAB_REPORTS_DIR || 'reports';
const junit = process.env.ECM_LAB_JUNIT || path.join(reports, 'junit.xml');

// A requirement tag (@UC-03, @FR-PS-002, @NFR-SEC-001, @S002-REN-04): the same pattern as
// REQUIREMENT_ID in evidence/requirement-ids.ts, with the tag's '@' (test/unit/evidence/tags.test.ts
// checks they agree).
const REQUIREMENT_TAG = /^@(?:UC-\d{2}|(?:FR|NFR)-[A-Z]+-\d{3}|S\d{3}-[A-Z]{2,4}-\d{2})$/;

const common = {
  import: ['steps/**/*.ts'],
  format: [
    process.stdout.isTTY ? 'progress-bar' : 'progress',
    `json:${path.join(reports, 'cucumber/report.json')}`,
    `html:${path.join(reports, 'cucumber/report.html')}`,
    `message:${path.join(reports, 'cucumber/messages.ndjson')}`,
    // cucumber's own JUnit formatter (@cucumber/junit-xml-formatter), for CI systems.
    `junit:${junit}`,
    // The reporter writes its results to resultsDir; the path only keeps it off stdout.
    `allure-cucumberjs/reporter:${path.join(reports, 'cucumber/allure-reporter.out')}`,
  ],
  formatOptions: {
    snippetInterface: 'async-await',
    resultsDir: path.join(reports, 'allure-results'),
    junit: { suiteName: 'ecm-lab' },
    // Each requirement tag links the Allure test to its row of the traceability matrix
    // (reports/traceability/index.html#FR-PS-002). The epic label with the requirement's title is
    // set by steps/support/requirement-labels.ts, and allurerc.mjs groups the tree by it.
    links: {
      requirement: { pattern: [REQUIREMENT_TAG], urlTemplate: (tag) => `../traceability/index.html#${tag.replace(/^@/, '')}` },
    },
    // Shown on the Allure report's overview: what the scenarios ran against.
    environmentInfo: {
      'step-ca': versions.go['step-ca'].version,
      'step CLI': versions.go.step.version,
      mosquitto: versions.debian.mosquitto,
      node: process.version,
      os: `${os.platform()} ${os.release()}`,
    },
  },
  // A scenario that is undefined or pending fails the run: nothing is skipped silently.
  strict: true,
};

module.exports = { default: common };
