// Allure 3 configuration, read by `allure generate` (run from the repository root by ecm-lab run).
// One awesome report as a single self-contained index.html: it opens from disk (file://), where
// the multi-file report only spins, because its data is fetched and file:// blocks fetch.
// The tree groups the scenarios by requirement (the epic labels set from the requirement tags by
// steps/support/requirement-labels.ts), then by Gherkin feature.
export default {
  name: 'ecm-lab',
  plugins: {
    awesome: {
      options: {
        singleFile: true,
        reportName: 'ecm-lab',
        groupBy: ['epic', 'feature'],
      },
    },
  },
};
