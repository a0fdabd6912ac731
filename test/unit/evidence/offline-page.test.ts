import assert from 'node:assert/strict';
import { test } from 'node:test';
import { offlinePage } from '../../../evidence/offline-page.ts';

// The end of the Allure awesome template as it renders (plugin-awesome 3.18), around the lab's own scripts.
const PAGE = `<html><head><script>window.allure = window.allure || {};</script></head><body>
<div id="app"></div>
<script   src="data:text/javascript;base64,LyohIEZvcg=="></script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"></script>
<script>
    window.dataLayer = window.dataLayer || [];
    function gtag(){dataLayer.push(arguments);}
    gtag('js', new Date());
    gtag('config', 'G-LNDJ3J7WT0', { "report": "awesome" });
</script>
<script src='//cdn.example.net/x.js' defer></script>
<script async>window.allureReportData = {};</script>
<script defer>document.title = 'ecm-lab';</script>
</body></html>`;

test('scripts from a network host and the tag manager set-up are cut; the report\'s own scripts stay', () => {
  const { html, removed } = offlinePage(PAGE);
  assert.deepEqual(removed, ['<script async src="https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0">', "<script src='//cdn.example.net/x.js' defer>", '<script>']);
  assert.doesNotMatch(html, /googletagmanager|gtag|dataLayer|cdn\.example/);
  for (const kept of ['window.allure = window.allure', 'src="data:text/javascript;base64,LyohIEZvcg=="', 'window.allureReportData = {}', "document.title = 'ecm-lab'"]) assert.ok(html.includes(kept), kept);
});

test('a page without remote scripts is left as it is', () => {
  const page = '<html><body><script>let a = 1;</script><script src="data:text/javascript;base64,AA=="></script></body></html>';
  assert.deepEqual(offlinePage(page), { html: page, removed: [] });
});
