'use strict';
// The docs page's graph: the lineage graph of DATA (which index.html
// declares) laid out and drawn, pan and zoom, selection and its highlight.
// panel.js follows it in the same function: the side panel, search, and the
// start of the page.

// ---------- constants and small helpers ----------
const SVGNS = 'http://www.w3.org/2000/svg';
const NODE_W = 216, NODE_H = 46, GAP_X = 96, GAP_Y = 18;
const ROW = NODE_H + GAP_Y, COL = NODE_W + GAP_X;
const MIN_K = 0.02, MAX_K = 3;
const WRAP_MIN_ROWS = 40, WRAP_ASPECT = 1.6;   // when and how far tall layers are wrapped
const ANIMATE_MAX = 400;                       // fade highlights only on graphs this small
const KIND_ORDER = {
  source: 0, seed: 1, snapshot: 2, model: 3, analysis: 4, semantic_model: 5, metric: 6,
  saved_query: 7, exposure: 8, test: 9
};
const KIND_COLOR = {
  model: '#3b82f6', seed: '#10b981', snapshot: '#8b5cf6', source: '#f59e0b', test: '#94a3b8',
  analysis: '#0ea5e9', exposure: '#ef4444', semantic_model: '#14b8a6', metric: '#ec4899',
  saved_query: '#a855f7'
};
const OTHER_COLOR = '#64748b';
const $ = (id) => document.getElementById(id);
const colorOf = (kind) => KIND_COLOR[kind] || OTHER_COLOR;
const str = (v) => (v === null || v === undefined) ? '' : String(v);

function escapeHtml(s) {
  return str(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// Element builder. Strings become text nodes, so data never reaches innerHTML.
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
  }
  appendAll(e, children);
  return e;
}
function appendAll(parent, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) appendAll(parent, c);
    else parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}
function s(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  if (attrs) for (const k of Object.keys(attrs)) e.setAttribute(k, attrs[k]);
  return e;
}
function truncate(text, max) {
  text = str(text);
  return text.length > max ? text.slice(0, max - 1) + '\u2026' : text;
}

// ---------- no data: the template opened as it is ----------
function showEmpty(title, message) {
  const box = $('empty');
  box.textContent = '';
  box.appendChild(h('div', { class: 'card' }, h('h2', { text: title }), h('p', null, message)));
  box.hidden = false;
  $('legend').hidden = true;
  $('zoom-controls').hidden = true;
  $('search').disabled = true;
  $('show-tests').disabled = true;
}
if (!DATA || typeof DATA !== 'object' || !Array.isArray(DATA.nodes)) {
  showEmpty('No project data in this page',
    ['This is the kiln docs template without data. Run ', h('code', { text: 'kiln docs generate' }),
     ' in a dbt project and open the index.html it writes.']);
  return;
}

// ---------- the data ----------
const allNodes = [];
const nodeById = new Map();
for (const n of DATA.nodes) {
  if (!n || typeof n.id !== 'string' || nodeById.has(n.id)) continue;
  allNodes.push(n);
  nodeById.set(n.id, n);
}
const allEdges = [];
{
  const seen = new Set();
  for (const e of (Array.isArray(DATA.edges) ? DATA.edges : [])) {
    if (!Array.isArray(e) || e.length < 2) continue;
    const from = e[0], to = e[1];
    if (from === to || !nodeById.has(from) || !nodeById.has(to)) continue;
    const key = from + '\u0000' + to;
    if (seen.has(key)) continue;
    seen.add(key);
    allEdges.push([from, to]);
  }
}

$('project-name').textContent = str(DATA.project) || 'kiln docs';
document.title = (str(DATA.project) ? DATA.project + ' \u00b7 ' : '') + 'kiln docs';

const svg = $('graph');
const viewport = $('viewport');
const edgeLayer = $('edges');
const nodeLayer = $('nodes');
const state = {
  showTests: false,
  graph: null,
  view: { x: 0, y: 0, k: 1 },
  selected: null,
  marked: [],        // elements carrying highlight classes, to clear them cheaply
  sqlMode: 'compiled',
  matches: [],
  activeResult: 0
};

// ---------- graph model ----------
function buildGraph(showTests) {
  const info = new Map();
  const ids = [];
  for (const n of allNodes) {
    if (!showTests && n.kind === 'test') continue;
    ids.push(n.id);
    info.set(n.id, { id: n.id, node: n, preds: [], succs: [], inEdges: [], outEdges: [], layer: 0, col: 0, y: 0, x: 0, el: null });
  }
  const edges = [];
  for (const [from, to] of allEdges) {
    const a = info.get(from), b = info.get(to);
    if (!a || !b) continue;
    const edge = { from, to, el: null };
    edges.push(edge);
    a.succs.push(to); a.outEdges.push(edge);
    b.preds.push(from); b.inEdges.push(edge);
  }
  return { ids, info, edges, width: 0, height: 0 };
}

// Longest-path layering, barycenter ordering, then y positions pulled
// towards the neighbours without letting nodes of a layer overlap.
function layout(g) {
  const info = g.info;
  // 1. layers: a node sits one column right of its deepest parent (Kahn order).
  const indeg = new Map();
  const queue = [];
  const queued = new Set();
  const enqueue = (id) => { if (!queued.has(id)) { queued.add(id); queue.push(id); } };
  for (const id of g.ids) {
    const d = info.get(id).preds.length;
    indeg.set(id, d);
    if (d === 0) enqueue(id);
  }
  for (let qi = 0; ; qi++) {
    if (qi === queue.length) {
      if (queue.length === g.ids.length) break;
      // A cycle (a valid project has none): release the waiting node with the
      // fewest unplaced parents, so everything else still gets a layer.
      let best = null, bestD = Infinity;
      for (const id of g.ids) if (!queued.has(id) && indeg.get(id) < bestD) { best = id; bestD = indeg.get(id); }
      enqueue(best);
    }
    const a = info.get(queue[qi]);
    for (const t of a.succs) {
      const b = info.get(t);
      if (queued.has(t)) continue;
      if (b.layer < a.layer + 1) b.layer = a.layer + 1;
      const d = indeg.get(t) - 1;
      indeg.set(t, d);
      if (d === 0) enqueue(t);
    }
  }
  let maxLayer = 0;
  for (const id of g.ids) maxLayer = Math.max(maxLayer, info.get(id).layer);
  const layers = Array.from({ length: maxLayer + 1 }, () => []);
  for (const id of g.ids) layers[info.get(id).layer].push(id);

  // 2. initial order: by kind, then by name.
  const nameOf = (id) => str(info.get(id).node.name) || id;
  for (const layer of layers) {
    layer.sort((p, q) => {
      const kp = KIND_ORDER[info.get(p).node.kind] ?? 9, kq = KIND_ORDER[info.get(q).node.kind] ?? 9;
      return kp - kq || (nameOf(p) < nameOf(q) ? -1 : nameOf(p) > nameOf(q) ? 1 : 0);
    });
  }
  const centre = (layer) => {
    const off = (layer.length - 1) / 2;
    layer.forEach((id, i) => { info.get(id).y = (i - off) * ROW; });
  };
  layers.forEach(centre);

  // 3. barycenter sweeps, alternating down (by parents) and up (by children).
  const mean = (list) => {
    let t = 0;
    for (const id of list) t += info.get(id).y;
    return t / list.length;
  };
  for (let it = 0; it < 8; it++) {
    const forward = it % 2 === 0;
    for (let step = 0; step < layers.length; step++) {
      const L = forward ? step : layers.length - 1 - step;
      const layer = layers[L];
      if (layer.length < 2) continue;
      const bary = new Map();
      layer.forEach((id, i) => {
        const a = info.get(id);
        const nb = forward ? a.preds : a.succs;
        bary.set(id, nb.length ? mean(nb) : a.y);
      });
      const index = new Map(layer.map((id, i) => [id, i]));
      layer.sort((p, q) => (bary.get(p) - bary.get(q)) || (index.get(p) - index.get(q)));
      centre(layer);
    }
  }

  // 4. a layer far taller than the whole graph is wide (hundreds of staging
  //    models) is dealt round-robin into several columns, so that a big
  //    project's overview is not a thin vertical line. Small graphs keep one
  //    column per layer.
  let maxLen = 0;
  for (const layer of layers) maxLen = Math.max(maxLen, layer.length);
  const aspect = (rows) => {
    let n = 0;
    for (const layer of layers) n += Math.ceil(layer.length / rows);
    return (n * COL) / (rows * ROW);
  };
  let rows = maxLen;
  if (maxLen > WRAP_MIN_ROWS && aspect(maxLen) < WRAP_ASPECT / 2) {
    let lo = WRAP_MIN_ROWS, hi = maxLen;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (aspect(mid) <= WRAP_ASPECT) hi = mid; else lo = mid + 1;
    }
    rows = lo;
  }
  const columns = [];
  for (const layer of layers) {
    const m = Math.max(1, Math.ceil(layer.length / rows));
    const base = columns.length;
    for (let c = 0; c < m; c++) columns.push([]);
    layer.forEach((id, i) => columns[base + (i % m)].push(id));
  }
  columns.forEach((col, c) => { for (const id of col) info.get(id).col = c; });
  columns.forEach(centre);

  // 5. coordinates: each node wants the mean y of its neighbours; keep order and spacing.
  const place = (col, useParents) => {
    if (!col.length) return;
    const want = col.map((id) => {
      const a = info.get(id);
      const nb = useParents ? a.preds : a.succs;
      return nb.length ? mean(nb) : a.y;
    });
    const ys = new Array(col.length);
    for (let i = 0; i < col.length; i++) ys[i] = i === 0 ? want[0] : Math.max(want[i], ys[i - 1] + ROW);
    let shift = 0;
    for (let i = 0; i < col.length; i++) shift += want[i] - ys[i];
    shift /= col.length;
    col.forEach((id, i) => { info.get(id).y = ys[i] + shift; });
  };
  for (let c = 1; c < columns.length; c++) place(columns[c], true);
  for (let c = columns.length - 2; c >= 0; c--) place(columns[c], false);
  for (let c = 1; c < columns.length; c++) place(columns[c], true);

  let minY = Infinity, maxY = -Infinity;
  for (const id of g.ids) {
    const a = info.get(id);
    minY = Math.min(minY, a.y);
    maxY = Math.max(maxY, a.y);
  }
  if (!g.ids.length) { minY = 0; maxY = 0; }
  for (const id of g.ids) {
    const a = info.get(id);
    a.y = Math.round(a.y - minY);
    a.x = a.col * COL;
  }
  g.width = columns.length * COL - GAP_X;
  g.height = maxY - minY + NODE_H;
}

// ---------- rendering (once per graph; selection only toggles classes) ----------
function edgePath(a, b) {
  const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2;
  const x2 = b.x - 2, y2 = b.y + NODE_H / 2;
  const dx = Math.max(36, Math.abs(x2 - x1) / 2);
  return 'M' + x1 + ' ' + y1 + ' C' + (x1 + dx) + ' ' + y1 + ' ' + (x2 - dx) + ' ' + y2 + ' ' + x2 + ' ' + y2;
}

function render(g) {
  edgeLayer.textContent = '';
  nodeLayer.textContent = '';
  const ef = document.createDocumentFragment();
  for (const e of g.edges) {
    const p = s('path', { class: 'edge', d: edgePath(g.info.get(e.from), g.info.get(e.to)), 'marker-end': 'url(#arrow)' });
    p.setAttribute('data-from', e.from);
    p.setAttribute('data-to', e.to);
    e.el = p;
    ef.appendChild(p);
  }
  edgeLayer.appendChild(ef);

  const nf = document.createDocumentFragment();
  for (const id of g.ids) {
    const a = g.info.get(id);
    const n = a.node;
    const kind = str(n.kind) || 'node';
    const gEl = s('g', { class: 'node kind-' + kind.replace(/[^a-z0-9_-]/gi, ''), transform: 'translate(' + a.x + ',' + a.y + ')' });
    gEl.setAttribute('data-id', id);
    const title = s('title');
    title.textContent = str(n.name) + ' (' + kind + ')' + (n.path ? '\n' + n.path : '');
    gEl.appendChild(title);
    gEl.appendChild(s('rect', { class: 'box', width: NODE_W, height: NODE_H, rx: 8, ry: 8 }));
    const bar = s('rect', { x: 0.5, y: 0.5, width: 5, height: NODE_H - 1, rx: 2.5, fill: colorOf(n.kind) });
    gEl.appendChild(bar);
    const name = s('text', { class: 'name', x: 16, y: 20 });
    name.textContent = truncate(n.name || id, 25);
    gEl.appendChild(name);
    const sub = s('text', { class: 'sub', x: 16, y: 36 });
    sub.textContent = truncate(kind + (n.materialization && n.kind !== 'seed' && n.kind !== 'source' ? ' \u00b7 ' + n.materialization : ''), 34);
    gEl.appendChild(sub);
    a.el = gEl;
    nf.appendChild(gEl);
  }
  nodeLayer.appendChild(nf);
  // Fading thousands of elements at once is slow without a GPU.
  svg.classList.toggle('animate', g.ids.length <= ANIMATE_MAX);
}

function renderLegend(g) {
  const counts = new Map();
  for (const id of g.ids) {
    const k = str(g.info.get(id).node.kind) || 'other';
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  const kinds = Array.from(counts.keys()).sort((p, q) => (KIND_ORDER[p] ?? 9) - (KIND_ORDER[q] ?? 9) || (p < q ? -1 : 1));
  const legend = $('legend');
  legend.textContent = '';
  for (const k of kinds) {
    legend.appendChild(h('span', { class: 'item' },
      h('span', { class: 'dot', style: 'background:' + colorOf(k) }), k, ' ', h('b', { text: String(counts.get(k)) })));
  }
  const hiddenTests = allNodes.filter((n) => n.kind === 'test').length;
  let meta = g.ids.length + ' nodes \u00b7 ' + g.edges.length + ' edges';
  if (!state.showTests && hiddenTests) meta += ' \u00b7 ' + hiddenTests + ' tests hidden';
  if (DATA.generated_at) {
    const d = new Date(DATA.generated_at);
    meta += ' \u00b7 generated ' + (isNaN(d.getTime()) ? str(DATA.generated_at) : d.toLocaleString());
  }
  $('project-meta').textContent = meta;
}

// ---------- pan and zoom ----------
function applyView() {
  const v = state.view;
  viewport.setAttribute('transform', 'translate(' + v.x + ',' + v.y + ') scale(' + v.k + ')');
  const dots = $('grid-dots');
  dots.setAttribute('patternTransform', 'translate(' + v.x + ',' + v.y + ') scale(' + Math.max(v.k, 0.25) + ')');
  svg.classList.toggle('zoomed-out', v.k < 0.32);
}
function svgSize() {
  const r = svg.getBoundingClientRect();
  return { w: r.width || 800, h: r.height || 600, left: r.left, top: r.top };
}
function zoomAt(factor, px, py) {
  const v = state.view;
  const k = Math.min(MAX_K, Math.max(MIN_K, v.k * factor));
  const f = k / v.k;
  v.x = px - (px - v.x) * f;
  v.y = py - (py - v.y) * f;
  v.k = k;
  applyView();
}
function fit() {
  const g = state.graph;
  const { w, h: hh } = svgSize();
  if (!g || !g.ids.length) { state.view = { x: 0, y: 0, k: 1 }; applyView(); return; }
  const pad = 48;
  const k = Math.min(1.1, Math.max(MIN_K, Math.min((w - pad * 2) / g.width, (hh - pad * 2) / g.height)));
  state.view = { k, x: (w - g.width * k) / 2, y: (hh - g.height * k) / 2 };
  applyView();
}
function centreOn(id, minK) {
  const a = state.graph && state.graph.info.get(id);
  if (!a) return;
  const { w, h: hh } = svgSize();
  const v = state.view;
  if (minK && v.k < minK) v.k = minK;
  v.x = w / 2 - (a.x + NODE_W / 2) * v.k;
  v.y = hh / 2 - (a.y + NODE_H / 2) * v.k;
  applyView();
}
function isVisible(id) {
  const a = state.graph && state.graph.info.get(id);
  if (!a) return false;
  const { w, h: hh } = svgSize();
  const v = state.view;
  const x = a.x * v.k + v.x, y = a.y * v.k + v.y;
  return x >= 0 && y >= 0 && x + NODE_W * v.k <= w && y + NODE_H * v.k <= hh && v.k >= 0.3;
}

let drag = null;
let suppressClick = false;
svg.addEventListener('pointerdown', (ev) => {
  if (ev.button !== 0) return;
  drag = { id: ev.pointerId, sx: ev.clientX, sy: ev.clientY, vx: state.view.x, vy: state.view.y, moved: false };
});
svg.addEventListener('pointermove', (ev) => {
  if (!drag || ev.pointerId !== drag.id) return;
  const dx = ev.clientX - drag.sx, dy = ev.clientY - drag.sy;
  if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
  if (!drag.moved) {
    drag.moved = true;
    svg.classList.add('panning');
    try { svg.setPointerCapture(ev.pointerId); } catch (_) { /* pointer already gone */ }
  }
  state.view.x = drag.vx + dx;
  state.view.y = drag.vy + dy;
  applyView();
});
const endDrag = (ev) => {
  if (!drag || ev.pointerId !== drag.id) return;
  if (drag.moved) suppressClick = true;
  svg.classList.remove('panning');
  drag = null;
};
svg.addEventListener('pointerup', endDrag);
svg.addEventListener('pointercancel', endDrag);
svg.addEventListener('wheel', (ev) => {
  ev.preventDefault();
  const r = svg.getBoundingClientRect();
  const delta = ev.deltaMode === 1 ? ev.deltaY * 16 : ev.deltaY;
  zoomAt(Math.exp(-delta * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
}, { passive: false });
svg.addEventListener('click', (ev) => {
  if (suppressClick) { suppressClick = false; return; }
  const gEl = ev.target.closest ? ev.target.closest('g.node') : null;
  if (gEl) select(gEl.getAttribute('data-id'));
  else clearSelection();
});
$('zoom-in').addEventListener('click', () => { const { w, h: hh } = svgSize(); zoomAt(1.25, w / 2, hh / 2); });
$('zoom-out').addEventListener('click', () => { const { w, h: hh } = svgSize(); zoomAt(0.8, w / 2, hh / 2); });
$('zoom-fit').addEventListener('click', fit);

// ---------- selection and lineage highlight ----------
function walk(startId, dir) {
  const g = state.graph;
  const seen = new Set();
  const stack = [startId];
  while (stack.length) {
    const a = g.info.get(stack.pop());
    for (const nb of (dir === 'up' ? a.preds : a.succs)) {
      if (nb !== startId && !seen.has(nb)) { seen.add(nb); stack.push(nb); }
    }
  }
  return seen;
}
function mark(el, cls) {
  el.classList.add(cls);
  state.marked.push([el, cls]);
}
function clearMarks() {
  for (const [el, cls] of state.marked) {
    el.classList.remove(cls);
    if (cls === 'hl-up' || cls === 'hl-down') el.setAttribute('marker-end', 'url(#arrow)');
  }
  state.marked = [];
}
// Opening or closing the panel changes the graph's width; keep what was in
// the middle of the graph in the middle.
function setPanelOpen(open) {
  const panel = $('panel');
  if (panel.hidden === !open) return;
  const before = svg.getBoundingClientRect().width;
  panel.hidden = !open;
  const after = svg.getBoundingClientRect().width;
  state.view.x += (after - before) / 2;
  applyView();
}
function clearSelection() {
  clearMarks();
  state.selected = null;
  svg.classList.remove('has-selection');
  setPanelOpen(false);
}
function select(id, opts) {
  opts = opts || {};
  const g = state.graph;
  const a = g && g.info.get(id);
  if (!a) return;
  clearMarks();
  state.selected = id;
  const up = walk(id, 'up');
  const down = walk(id, 'down');
  mark(a.el, 'selected');
  for (const u of up) mark(g.info.get(u).el, 'upstream');
  for (const d of down) mark(g.info.get(d).el, 'downstream');
  const upOrSelf = (x) => x === id || up.has(x);
  const downOrSelf = (x) => x === id || down.has(x);
  for (const x of [id, ...up]) {
    for (const e of g.info.get(x).inEdges) {
      if (up.has(e.from) && upOrSelf(e.to)) { mark(e.el, 'hl-up'); e.el.setAttribute('marker-end', 'url(#arrow-up)'); }
    }
  }
  for (const x of [id, ...down]) {
    for (const e of g.info.get(x).outEdges) {
      if (down.has(e.to) && downOrSelf(e.from)) { mark(e.el, 'hl-down'); e.el.setAttribute('marker-end', 'url(#arrow-down)'); }
    }
  }
  svg.classList.add('has-selection');
  showPanel(a.node, a);
  if (opts.centre || !isVisible(id)) centreOn(id, opts.centre ? 0.85 : 0);
}
