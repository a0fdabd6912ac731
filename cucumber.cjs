// cucumber-js configuration: every report goes under reports/. Step definitions are TypeScript,
// loaded through tsx (ecm-lab run starts cucumber with `node --import tsx`).
const common = {
  paths: ['features/**/*.feature'],
  import: ['steps/**/*.ts'],
  format: [
    process.stdout.isTTY ? 'progress-bar' : 'progress',
    'json:reports/cucumber/report.json',
    'html:reports/cucumber/report.html',
    'message:reports/cucumber/messages.ndjson',
  ],
  formatOptions: { snippetInterface: 'async-await' },
  // A scenario that is undefined or pending fails the run: nothing is skipped silently.
  strict: true,
};

module.exports = {
  default: common,
  ci: { ...common, format: ['summary', ...common.format.slice(1)] },
};
