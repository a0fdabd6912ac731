// The admin page (NFR-USE-001, seed 000 Figure 2): one static page that drives the admin REST
// API with the bearer token the operator pastes in. The token stays in sessionStorage of the tab.
export const adminPageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ecm-lab provisioning service</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  .notice { background: #fff4ce; border: 1px solid #e0b400; padding: .4em .8em; }
  body { font: 15px system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; color: #1b1f24; padding: 0 1rem; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin: .2rem 0 .6rem; }
  section { border: 1px solid #d0d7de; border-radius: 6px; padding: .8rem 1rem; margin-bottom: 1rem; }
  .on { color: #116329; font-weight: 600; } .off { color: #a40e26; font-weight: 600; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; border-bottom: 1px solid #eaeef2; padding: 3px 6px; }
  textarea { width: 100%; font-family: ui-monospace, monospace; }
  #error { color: #a40e26; min-height: 1.2em; white-space: pre-wrap; }
  button { margin-right: .4rem; }
  .state-active { color: #116329 } .state-expiring { color: #9a6700 } .state-expired, .state-revoked { color: #a40e26 }
</style>
</head>
<body>
<h1>ecm-lab provisioning service</h1>
<p class="notice" role="note">For testing, not for production: the reference service of a test lab, with keys made per run.</p>
<section>
  <label>Admin token <input id="token" type="password" size="50" autocomplete="off"></label>
  <button id="connect">Connect</button>
  <div id="error" role="alert"></div>
</section>
<section aria-labelledby="state-h">
  <h2 id="state-h">Provisioning</h2>
  <p>Status: <span id="status">unknown</span> <span id="remaining"></span></p>
  <label>Auto-off after <input id="autoOff" type="number" min="1" placeholder="seconds"> s</label>
  <button id="turnOn">Turn ON</button><button id="turnOff">Turn OFF</button>
</section>
<section aria-labelledby="wl-h">
  <h2 id="wl-h">White list</h2>
  <p>One entry per line: an address (127.0.0.5), CIDR (10.0.0.0/24), range (10.0.0.1-10.0.0.9) or address/mask (10.0.0.16/255.255.255.240).</p>
  <textarea id="whitelistInput" rows="4"></textarea>
  <button id="saveWhitelist">Save white list</button>
  <ul id="whitelist"></ul>
</section>
<section aria-labelledby="inv-h">
  <h2 id="inv-h">Certificates</h2>
  <table><thead><tr><th>device</th><th>kind</th><th>serial</th><th>not after</th><th>state</th></tr></thead><tbody id="inventory"></tbody></table>
</section>
<section aria-labelledby="audit-h">
  <h2 id="audit-h">Audit log</h2>
  <table><thead><tr><th>time</th><th>event</th><th>decision</th><th>source</th><th>reason</th></tr></thead><tbody id="audit"></tbody></table>
</section>
<script>
const $ = (id) => document.getElementById(id);
const tokenInput = $('token');
tokenInput.value = sessionStorage.getItem('ecm-admin-token') || '';
function cell(text, cls) { const td = document.createElement('td'); td.textContent = text == null ? '' : String(text); if (cls) td.className = cls; return td; }
function row(cells) { const tr = document.createElement('tr'); cells.forEach((c) => tr.appendChild(c)); return tr; }
async function api(method, path, body) {
  const res = await fetch(path, { method, headers: { authorization: 'Bearer ' + tokenInput.value, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data.message || ('HTTP ' + res.status)), { status: res.status });
  return data;
}
// An action's error (say, a refused white list entry) stays until the operator's next action;
// the periodic refresh only shows (and clears) its own errors.
let actionError = '';
let refreshError = '';
function showError() { $('error').textContent = actionError || refreshError; }
function clearData() {
  $('status').textContent = 'unknown'; $('status').className = '';
  $('remaining').textContent = '';
  ['whitelist', 'inventory', 'audit'].forEach((id) => $(id).replaceChildren());
}
// Answers can arrive out of order (the 2 s timer and an action overlap); only the newest counts.
let refreshSeq = 0;
async function refresh() {
  const mine = ++refreshSeq;
  try {
    const [state, inv, audit] = await Promise.all([api('GET', '/api/v1/admin/state'), api('GET', '/api/v1/admin/inventory'), api('GET', '/api/v1/admin/audit?limit=50')]);
    if (mine !== refreshSeq) return;
    $('status').textContent = state.enabled ? 'ON' : 'OFF';
    $('status').className = state.enabled ? 'on' : 'off';
    $('remaining').textContent = state.remainingSeconds == null ? '' : '(auto-off in ' + state.remainingSeconds + ' s)';
    const list = $('whitelist'); list.replaceChildren(...state.whitelist.map((e) => { const li = document.createElement('li'); li.textContent = e; return li; }));
    $('inventory').replaceChildren(...inv.certificates.map((c) => row([cell(c.deviceId), cell(c.kind), cell(c.serial), cell(c.notAfter), cell(c.state, 'state-' + c.state)])));
    $('audit').replaceChildren(...audit.records.map((r) => row([cell(r.time), cell(r.event), cell(r.decision), cell(r.sourceIp), cell(r.reason)])));
    refreshError = '';
  } catch (err) {
    if (mine !== refreshSeq) return;
    // A refused token must not leave an earlier session's data on screen.
    if (err.status === 401) clearData();
    refreshError = err.message;
  }
  showError();
}
async function act(work) {
  actionError = '';
  try { await work(); } catch (err) { actionError = err.message; }
  await refresh();
}
function connect() { actionError = ''; sessionStorage.setItem('ecm-admin-token', tokenInput.value); refresh(); }
$('connect').onclick = connect;
tokenInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') connect(); });
$('turnOn').onclick = () => act(() => { const s = Number($('autoOff').value); return api('PUT', '/api/v1/admin/state', s > 0 ? { enabled: true, autoOffSeconds: s } : { enabled: true }); });
$('turnOff').onclick = () => act(() => api('PUT', '/api/v1/admin/state', { enabled: false }));
$('saveWhitelist').onclick = () => act(() => api('PUT', '/api/v1/admin/whitelist', { entries: $('whitelistInput').value.split('\\n').map((l) => l.trim()).filter(Boolean) }));
setInterval(() => { if (tokenInput.value) refresh(); }, 2000);
if (tokenInput.value) refresh();
</script>
</body>
</html>
`;
