// The docs page's side panel (a node's SQL, columns, tests and column
// lineage), search, the tests toggle, and the start of the page; graph.js
// comes first in the same script.
// ---------- side panel ----------
const SQL_KEYWORDS = new Set(('select from where join left right inner outer full cross on and or not as with group by ' +
  'order having limit offset union all distinct case when then else end in is null like ilike between cast over ' +
  'partition window insert into values create table view replace asc desc exists true false interval qualify ' +
  'using lateral recursive except intersect filter rows range preceding following current row nulls first last').split(' '));
function highlightSql(text) {
  const re = /(--[^\n]*|\/\*[\s\S]*?\*\/)|('(?:[^']|'')*')|("(?:[^"]|"")*")|(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\})|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)/g;
  let out = '', last = 0, m;
  while ((m = re.exec(text)) !== null) {
    out += escapeHtml(text.slice(last, m.index));
    const tok = m[0];
    const cls = m[1] ? 'c' : m[2] ? 's' : m[3] ? 'q' : m[4] ? 'j' : m[5] ? 'n' : (SQL_KEYWORDS.has(tok.toLowerCase()) ? 'k' : '');
    out += cls ? '<span class="tok-' + cls + '">' + escapeHtml(tok) + '</span>' : escapeHtml(tok);
    last = re.lastIndex;
  }
  return out + escapeHtml(text.slice(last));
}

function nodeRef(id, label) {
  const n = nodeById.get(id);
  const inGraph = state.graph.info.has(id);
  const text = label || (n ? str(n.name) : id);
  if (!inGraph) return h('span', { class: 'chip', title: id, style: 'cursor:default;opacity:.7' }, h('span', { class: 'dot', style: 'background:' + colorOf(n && n.kind) }), text);
  return h('button', { class: 'chip', type: 'button', title: id, onclick: () => select(id, { centre: true }) },
    h('span', { class: 'dot', style: 'background:' + colorOf(n && n.kind) }), text);
}

function showPanel(n, a) {
  setPanelOpen(true);
  $('panel-title').textContent = str(n.name) || n.id;

  const badges = $('panel-badges');
  badges.textContent = '';
  badges.appendChild(h('span', { class: 'badge kind', style: 'background:' + colorOf(n.kind), text: str(n.kind) || 'node' }));
  if (n.materialization && n.materialization !== n.kind) badges.appendChild(h('span', { class: 'badge', text: str(n.materialization) }));
  if (n.package) badges.appendChild(h('span', { class: 'badge', text: 'package: ' + str(n.package) }));

  const meta = $('panel-meta');
  meta.textContent = '';
  const row = (k, v, mono) => { if (v) meta.append(h('dt', { text: k }), h('dd', { class: mono ? 'mono' : null, text: str(v) })); };
  row('Kind', n.kind);
  row('Materialization', n.materialization);
  row('Path', n.path, true);
  row('Package', n.package);
  row('Unique id', n.id, true);

  const desc = $('panel-description');
  desc.textContent = '';
  desc.appendChild(n.description ? h('p', { class: 'desc', text: str(n.description) }) : h('p', { class: 'none', text: 'No description.' }));

  const nb = $('panel-neighbours');
  nb.textContent = '';
  const preds = a ? a.preds : [], succs = a ? a.succs : [];
  nb.append(h('span', { text: 'Depends on' }),
    preds.length ? h('div', { class: 'chips' }, preds.map((p) => nodeRef(p))) : h('div', { class: 'none', style: 'padding-top:4px', text: 'nothing' }));
  nb.append(h('span', { text: 'Used by' }),
    succs.length ? h('div', { class: 'chips' }, succs.map((p) => nodeRef(p))) : h('div', { class: 'none', style: 'padding-top:4px', text: 'nothing' }));

  // columns with their lineage
  const cols = Array.isArray(n.columns) ? n.columns.filter((c) => c && c.name !== undefined) : [];
  const lineage = (n.column_lineage && typeof n.column_lineage === 'object') ? n.column_lineage : {};
  const listed = new Set(cols.map((c) => str(c.name)));
  for (const name of Object.keys(lineage)) if (!listed.has(name)) cols.push({ name, type: null, description: '' });
  const colBox = $('panel-columns');
  colBox.textContent = '';
  $('panel-columns-count').textContent = cols.length ? String(cols.length) : '';
  if (!cols.length) colBox.appendChild(h('p', { class: 'none', text: 'No columns documented.' }));
  else {
    const ul = h('ul', { class: 'columns' });
    for (const c of cols) {
      const li = h('li', { 'data-column': str(c.name) },
        h('div', { class: 'col-head' },
          h('span', { class: 'col-name', text: str(c.name) }),
          c.type ? h('span', { class: 'col-type', text: str(c.type) }) : null),
        c.description ? h('div', { class: 'col-desc', text: str(c.description) }) : null);
      const ups = Array.isArray(lineage[str(c.name)]) ? lineage[str(c.name)] : [];
      if (ups.length) {
        const lu = h('ul', { class: 'lineage' });
        for (const u of ups) {
          if (!u) continue;
          const target = str(u.node);
          const up = nodeById.get(target);
          const label = (up ? str(up.name) : target) + '.' + str(u.column);
          const kind = str(u.kind);
          const ref = state.graph.info.has(target)
            ? h('button', { class: 'ref', type: 'button', title: target + '.' + str(u.column), 'data-node': target,
                onclick: () => select(target, { centre: true }) }, label)
            : h('span', { class: 'ref', title: target, text: label });
          lu.appendChild(h('li', null, h('span', { class: 'arrow', text: '\u2190' }), ref,
            kind ? h('span', { class: 'lk ' + (kind === 'passthrough' ? 'passthrough' : 'transformed'), text: kind }) : null));
        }
        li.appendChild(lu);
      }
      ul.appendChild(li);
    }
    colBox.appendChild(ul);
  }

  const tests = Array.isArray(n.tests) ? n.tests : [];
  const testBox = $('panel-tests');
  testBox.textContent = '';
  $('panel-tests-count').textContent = tests.length ? String(tests.length) : '';
  testBox.appendChild(tests.length ? h('ul', { class: 'tests' }, tests.map((t) => h('li', { text: str(t) })))
    : h('p', { class: 'none', text: 'No tests.' }));

  const hasCompiled = typeof n.sql === 'string' && n.sql.length > 0;
  const hasRaw = typeof n.raw_sql === 'string' && n.raw_sql.length > 0;
  $('sql-compiled').disabled = !hasCompiled;
  $('sql-raw').disabled = !hasRaw;
  if (state.sqlMode === 'compiled' && !hasCompiled && hasRaw) renderSql(n, 'raw', true);
  else if (state.sqlMode === 'raw' && !hasRaw && hasCompiled) renderSql(n, 'compiled', true);
  else renderSql(n, state.sqlMode, true);
  $('panel').scrollTop = 0;
}

function renderSql(n, mode, keepPreference) {
  if (!keepPreference) state.sqlMode = mode;
  $('sql-compiled').classList.toggle('active', mode === 'compiled');
  $('sql-raw').classList.toggle('active', mode === 'raw');
  const text = mode === 'raw' ? n.raw_sql : n.sql;
  const pre = $('panel-sql');
  pre.setAttribute('data-mode', mode);
  if (typeof text === 'string' && text.length) {
    pre.classList.remove('empty');
    pre.innerHTML = highlightSql(text);
  } else {
    pre.classList.add('empty');
    pre.textContent = n.kind === 'seed' ? 'A seed is loaded from CSV; it has no SQL.'
      : n.kind === 'source' ? 'A source is a table loaded outside the project; it has no SQL.'
      : n.kind === 'exposure' ? 'An exposure is a dashboard, notebook or application that reads the project; it has no SQL.'
      : ['metric', 'semantic_model', 'saved_query'].includes(n.kind) ? 'A node of the semantic layer; kiln records it and builds nothing for it.'
      : mode === 'compiled' ? 'Not compiled.' : 'No SQL.';
  }
}
$('sql-compiled').addEventListener('click', () => { const n = nodeById.get(state.selected); if (n) renderSql(n, 'compiled'); });
$('sql-raw').addEventListener('click', () => { const n = nodeById.get(state.selected); if (n) renderSql(n, 'raw'); });
$('panel-close').addEventListener('click', clearSelection);

// ---------- search ----------
const search = $('search');
const results = $('search-results');
function runSearch() {
  const q = search.value.trim().toLowerCase();
  const g = state.graph;
  for (const id of state.matches) { const a = g.info.get(id); if (a) a.el.classList.remove('match'); }
  state.matches = [];
  state.activeResult = 0;
  results.textContent = '';
  if (!q) {
    svg.classList.remove('searching');
    $('search-count').textContent = '';
    results.hidden = true;
    return;
  }
  const scored = [];
  for (const id of g.ids) {
    const name = str(g.info.get(id).node.name).toLowerCase();
    const at = name.indexOf(q);
    if (at < 0) continue;
    scored.push([name === q ? 0 : at === 0 ? 1 : 2, name.length, name, id]);
  }
  scored.sort((p, q2) => p[0] - q2[0] || p[1] - q2[1] || (p[2] < q2[2] ? -1 : p[2] > q2[2] ? 1 : 0));
  state.matches = scored.map((x) => x[3]);
  for (const id of state.matches) g.info.get(id).el.classList.add('match');
  svg.classList.add('searching');
  $('search-count').textContent = state.matches.length === 1 ? '1 match' : state.matches.length + ' matches';
  const shown = state.matches.slice(0, 30);
  shown.forEach((id, i) => {
    const n = g.info.get(id).node;
    results.appendChild(h('li', { class: i === 0 ? 'active' : null, 'data-id': id, role: 'option',
      onmousedown: (ev) => { ev.preventDefault(); pickResult(id); } },
      h('span', { class: 'dot', style: 'background:' + colorOf(n.kind) }),
      h('span', { class: 'r-name', text: str(n.name) }),
      h('span', { class: 'r-path', text: str(n.path) })));
  });
  results.hidden = shown.length === 0;
}
function pickResult(id) {
  results.hidden = true;
  select(id, { centre: true });
}
function moveActive(delta) {
  const items = results.querySelectorAll('li');
  if (!items.length) return;
  state.activeResult = (state.activeResult + delta + items.length) % items.length;
  items.forEach((li, i) => li.classList.toggle('active', i === state.activeResult));
  items[state.activeResult].scrollIntoView({ block: 'nearest' });
}
search.addEventListener('input', runSearch);
search.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    ev.preventDefault();
    const items = results.querySelectorAll('li');
    const id = items.length ? items[state.activeResult].getAttribute('data-id') : state.matches[0];
    if (id) pickResult(id);
  } else if (ev.key === 'ArrowDown') { ev.preventDefault(); moveActive(1); }
  else if (ev.key === 'ArrowUp') { ev.preventDefault(); moveActive(-1); }
  else if (ev.key === 'Escape') {
    ev.preventDefault();
    if (search.value) { search.value = ''; runSearch(); } else search.blur();
  }
});
search.addEventListener('focus', () => { if (results.childElementCount) results.hidden = false; });
search.addEventListener('blur', () => { results.hidden = true; });
document.addEventListener('keydown', (ev) => {
  if (ev.target === search) return;
  if (ev.key === '/' && !ev.ctrlKey && !ev.metaKey) { ev.preventDefault(); search.focus(); search.select(); }
  else if (ev.key === 'Escape') clearSelection();
});

// ---------- tests toggle: the only thing that lays the graph out again ----------
function rebuild() {
  const keep = state.selected;
  clearSelection();
  state.matches = [];
  state.graph = buildGraph(state.showTests);
  layout(state.graph);
  render(state.graph);
  renderLegend(state.graph);
  fit();
  runSearch();
  if (keep && state.graph.info.has(keep)) select(keep);
}
$('show-tests').addEventListener('change', (ev) => { state.showTests = ev.target.checked; rebuild(); });

rebuild();
if (!allNodes.length) showEmpty('This project has no nodes', 'There are no models, seeds, snapshots or sources to show.');
window.addEventListener('resize', () => { if (!state.selected) fit(); });
