// cucumber-js configuration: every report goes under reports/. Step definitions are TypeScript,
// loaded through tsx (ecm-lab run starts cucumber with `node --import tsx`).
const os = require('node:os');
const versions = require('./environments/tools/versions.json');

const common = {
  import: ['steps/**/*.ts'],
  format: [
    process.stdout.isTTY ? 'progress-bar' : 'progress',
    'json:reports/cucumber/report.json',
    'html:reports/cucumber/report.html',
    'message:reports/cucumber/messages.ndjson',
    // The reporter writes its results to resultsDir; the path only keeps it off stdout.
    'allure-cucumberjs/reporter:reports/cucumber/allure-reporter.out',
  ],
  formatOptions: {
    snippetInterface: 'async-await',
    resultsDir: 'reports/allure-results',
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
