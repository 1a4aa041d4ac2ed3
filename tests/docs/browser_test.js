// Headless-browser check of a generated kiln docs page. Run through
// browser_test.sh, which installs Chromium and playwright-core first:
//
//   node browser_test.js PAGE.html SCREENSHOT.png [RAW_TEMPLATE.html]
//
// Every check prints "ok" or "FAIL"; the last line counts them, and the exit
// status is 1 when any failed.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.KILN_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
];

const [htmlArg, shotArg, templateArg] = process.argv.slice(2);
if (!htmlArg || !shotArg) {
  console.error('usage: node browser_test.js PAGE.html SCREENSHOT.png [RAW_TEMPLATE.html]');
  process.exit(2);
}
const htmlPath = path.resolve(htmlArg);
const shotPath = path.resolve(shotArg);

let passed = 0;
let failed = 0;
function check(ok, what, detail) {
  if (ok) {
    passed++;
    console.log('ok   - ' + what);
  } else {
    failed++;
    console.log('FAIL - ' + what + (detail ? '\n         ' + detail : ''));
  }
  return ok;
}

// A quoted CSS string for attribute selectors such as g.node[data-id="..."].
const cssString = (v) => '"' + String(v).replace(/["\\]/g, '\\$&').replace(/\n/g, '\\a ') + '"';
const nodeSel = (id) => 'g.node[data-id=' + cssString(id) + ']';
const norm = (v) => (v === null || v === undefined ? '' : String(v)).trim();

function visibleGraph(data) {
  const nodes = data.nodes.filter((n) => n && typeof n.id === 'string' && n.kind !== 'test');
  const ids = new Set(nodes.map((n) => n.id));
  const seen = new Set();
  const edges = [];
  for (const e of data.edges || []) {
    if (!Array.isArray(e) || e[0] === e[1] || !ids.has(e[0]) || !ids.has(e[1])) continue;
    const key = e[0] + '\u0000' + e[1];
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push([e[0], e[1]]);
  }
  return { nodes, ids, edges };
}

function reach(edges, start, upstream) {
  const next = new Map();
  for (const [a, b] of edges) {
    const [k, v] = upstream ? [b, a] : [a, b];
    if (!next.has(k)) next.set(k, []);
    next.get(k).push(v);
  }
  const seen = new Set();
  const stack = [start];
  while (stack.length) {
    for (const n of next.get(stack.pop()) || []) {
      if (n !== start && !seen.has(n)) { seen.add(n); stack.push(n); }
    }
  }
  return seen;
}

async function scaleOf(page) {
  const t = await page.getAttribute('#viewport', 'transform');
  const m = /translate\(([-\d.e]+),([-\d.e]+)\) scale\(([-\d.e]+)\)/.exec(t || '');
  return m ? { x: +m[1], y: +m[2], k: +m[3] } : null;
}

async function clickNode(page, id) {
  const loc = page.locator(nodeSel(id));
  try {
    await loc.click({ timeout: 4000 });
    return 'mouse';
  } catch (_) {
    // Covered by another element at this zoom: send the click event itself.
    await loc.dispatchEvent('click');
    return 'event';
  }
}

async function main() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(CHROMIUM + ' not found (browser_test.sh installs Debian\'s chromium)');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-docs-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1
  });

  // Only the page files themselves may be loaded; anything else is recorded and blocked.
  const allowed = new Set([pathToFileURL(htmlPath).href]);
  if (templateArg) allowed.add(pathToFileURL(path.resolve(templateArg)).href);
  const foreign = [];
  const consoleErrors = [];
  context.on('request', (req) => {
    if (!allowed.has(req.url().replace(/#.*$/, ''))) foreign.push(req.method() + ' ' + req.url());
  });
  await context.route((u) => !allowed.has(u.href.replace(/#.*$/, '')), (route) => route.abort('blockedbyclient'));

  const watch = (page, label) => {
    page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(label + ': console error: ' + msg.text()); });
    page.on('pageerror', (err) => consoleErrors.push(label + ': uncaught: ' + (err && err.message)));
  };

  try {
    const page = context.pages()[0] || await context.newPage();
    watch(page, 'page');
    const t0 = Date.now();
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    await page.waitForSelector('g.node', { timeout: 20000 }).catch(() => {});
    const loadMs = Date.now() - t0;

    const data = await page.evaluate(() => (typeof DATA === 'undefined' ? undefined : DATA));
    if (!check(data && Array.isArray(data.nodes), 'the page carries DATA with a nodes array',
      'DATA is ' + JSON.stringify(data) + ' (was the placeholder /*KILN_DOCS_DATA*/null replaced?)')) {
      return;
    }
    const vg = visibleGraph(data);
    const testCount = data.nodes.length - vg.nodes.length;
    console.log('     page: ' + data.nodes.length + ' nodes in DATA (' + testCount + ' tests, hidden by default), ' +
      vg.edges.length + ' edges between shown nodes; rendered in ' + loadMs + ' ms');

    // --- the graph ---
    const rendered = await page.$$eval('#graph g.node', (els) => els.map((e) => e.getAttribute('data-id')));
    check(rendered.length === vg.nodes.length,
      'the svg has one g.node per non-test node (' + vg.nodes.length + ')', 'found ' + rendered.length);
    const missing = vg.nodes.filter((n) => !rendered.includes(n.id)).map((n) => n.id);
    check(missing.length === 0, 'every non-test node has g.node[data-id]', 'missing: ' + missing.slice(0, 10).join(', '));
    const edgeCount = await page.$$eval('#graph path.edge', (els) => els.length);
    check(edgeCount === vg.edges.length, 'one path.edge per edge between shown nodes (' + vg.edges.length + ')', 'found ' + edgeCount);

    const boxes = await page.$$eval('#graph g.node', (els) => els.map((e) => {
      const m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(e.getAttribute('transform') || '');
      const r = e.querySelector('rect.box');
      return { id: e.getAttribute('data-id'), x: m ? +m[1] : NaN, y: m ? +m[2] : NaN, w: r ? +r.getAttribute('width') : 0, h: r ? +r.getAttribute('height') : 0 };
    }));
    const pos = new Map(boxes.map((b) => [b.id, b]));
    const backwards = vg.edges.filter(([a, b]) => pos.has(a) && pos.has(b) && !(pos.get(a).x < pos.get(b).x));
    check(backwards.length === 0, 'every edge runs left to right (parents in earlier columns)',
      backwards.slice(0, 5).map((e) => e.join(' -> ')).join('; '));
    const columns = new Map();
    for (const b of boxes) { if (!columns.has(b.x)) columns.set(b.x, []); columns.get(b.x).push(b); }
    let overlaps = 0;
    for (const col of columns.values()) {
      col.sort((p, q) => p.y - q.y);
      for (let i = 1; i < col.length; i++) if (col[i].y < col[i - 1].y + col[i - 1].h) overlaps++;
    }
    check(overlaps === 0 && boxes.every((b) => Number.isFinite(b.x) && Number.isFinite(b.y)), 'nodes have finite positions and do not overlap', overlaps + ' overlapping pairs');

    // The node to click: one with SQL, preferring one with parents and children.
    const score = (n) => {
      const u = reach(vg.edges, n.id, true).size, d = reach(vg.edges, n.id, false).size;
      return ((n.sql ? 4 : 0) + (u ? 2 : 0) + (d ? 2 : 0) + (n.kind === 'model' ? 1 : 0)) * 1e6 + Math.min(u, d) * 1e3 + u + d;
    };
    const target = vg.nodes.slice().sort((p, q) => score(q) - score(p))[0];
    if (!target) return;
    const up = reach(vg.edges, target.id, true);
    const down = reach(vg.edges, target.id, false);
    console.log('     target: ' + target.id + ' (' + up.size + ' upstream, ' + down.size + ' downstream)');

    // --- search ---
    await page.click('#search');
    await page.keyboard.type(String(target.name));
    const afterSearch = await page.evaluate((sel) => ({
      match: document.querySelector(sel).classList.contains('match'),
      searching: document.getElementById('graph').classList.contains('searching'),
      matches: Array.from(document.querySelectorAll('g.node.match')).map((e) => e.getAttribute('data-id'))
    }), nodeSel(target.id));
    check(afterSearch.match && afterSearch.searching, 'typing "' + target.name + '" in #search highlights that node', JSON.stringify(afterSearch));
    const q = String(target.name).toLowerCase();
    const wrong = afterSearch.matches.filter((id) => !String(data.nodes.find((n) => n.id === id).name).toLowerCase().includes(q));
    check(wrong.length === 0, 'only nodes whose name contains the text are highlighted', 'also: ' + wrong.join(', '));
    await page.keyboard.press('Enter');
    const afterEnter = await page.evaluate(() => ({
      panel: !document.getElementById('panel').hidden,
      title: document.getElementById('panel-title').textContent,
      selected: Array.from(document.querySelectorAll('g.node.selected')).map((e) => e.getAttribute('data-id'))
    }));
    check(afterEnter.panel && afterEnter.title === String(target.name) && afterEnter.selected.length === 1,
      'Enter in #search selects the first match', JSON.stringify(afterEnter));
    await page.fill('#search', '');
    const cleared = await page.evaluate(() => document.querySelectorAll('g.node.match').length === 0 && !document.getElementById('graph').classList.contains('searching'));
    check(cleared, 'clearing #search removes the highlight');
    await page.click('#panel-close');
    check(await page.evaluate(() => document.getElementById('panel').hidden && document.querySelectorAll('g.node.selected').length === 0),
      'closing the panel clears the selection');

    // --- pan and zoom ---
    await page.click('#zoom-fit');
    const v0 = await scaleOf(page);
    await page.click('#zoom-in');
    const v1 = await scaleOf(page);
    await page.click('#zoom-out');
    await page.click('#zoom-out');
    const v2 = await scaleOf(page);
    check(v0 && v1 && v2 && v1.k > v0.k && v2.k < v1.k, 'the + and - buttons zoom', JSON.stringify([v0, v1, v2]));
    const gbox = await page.locator('#graph').boundingBox();
    await page.mouse.move(gbox.x + gbox.width / 2, gbox.y + gbox.height / 2);
    await page.mouse.wheel(0, -300);
    const v3 = await scaleOf(page);
    check(v3 && v3.k > v2.k, 'the mouse wheel zooms', JSON.stringify([v2, v3]));
    await page.click('#zoom-fit');
    const vf = await scaleOf(page);
    await page.mouse.move(gbox.x + 12, gbox.y + 12);
    await page.mouse.down();
    await page.mouse.move(gbox.x + 60, gbox.y + 40, { steps: 5 });
    await page.mouse.move(gbox.x + 92, gbox.y + 52, { steps: 5 });
    await page.mouse.up();
    const vp = await scaleOf(page);
    check(vp && Math.abs(vp.x - vf.x - 80) < 0.5 && Math.abs(vp.y - vf.y - 40) < 0.5 && vp.k === vf.k,
      'dragging the background pans', JSON.stringify([vf, vp]));
    check(await page.evaluate(() => document.getElementById('panel').hidden), 'a drag does not select anything');
    await page.click('#zoom-fit');

    // --- click a node ---
    const how = await clickNode(page, target.id);
    const panel = await page.evaluate(() => ({
      visible: !document.getElementById('panel').hidden && document.getElementById('panel').getBoundingClientRect().width > 0,
      title: document.getElementById('panel-title').textContent,
      sql: document.getElementById('panel-sql').textContent,
      mode: document.getElementById('panel-sql').getAttribute('data-mode')
    }));
    check(panel.visible, 'clicking the node (' + how + ' click) opens #panel');
    check(panel.title === String(target.name), '#panel-title shows the node name', JSON.stringify(panel.title));
    const wantSql = target.sql || target.raw_sql;
    if (wantSql) {
      check(norm(panel.sql) === norm(wantSql), '#panel-sql shows its ' + (target.sql ? 'compiled' : 'raw') + ' SQL',
        'got: ' + JSON.stringify(norm(panel.sql).slice(0, 120)));
    } else {
      const empty = await page.$eval('#panel-sql', (e) => e.classList.contains('empty') && e.textContent.trim().length > 0);
      check(empty, '#panel-sql says the node has no SQL');
    }
    if (target.sql && target.raw_sql) {
      await page.click('#sql-raw');
      const raw = await page.textContent('#panel-sql');
      check(norm(raw) === norm(target.raw_sql), 'the Raw toggle shows the raw SQL', 'got: ' + JSON.stringify(norm(raw).slice(0, 120)));
      await page.click('#sql-compiled');
      const back = await page.textContent('#panel-sql');
      check(norm(back) === norm(target.sql), 'the Compiled toggle shows the compiled SQL again');
    }
    const colNames = await page.$$eval('#panel-columns .col-name', (els) => els.map((e) => e.textContent));
    const wantCols = (target.columns || []).map((c) => String(c.name));
    check(wantCols.every((c) => colNames.includes(c)), '#panel-columns lists the node\'s columns', 'got ' + JSON.stringify(colNames));

    const classes = await page.$$eval('#graph g.node', (els) => els.map((e) => [e.getAttribute('data-id'), e.getAttribute('class')]));
    const bad = [];
    for (const [id, cls] of classes) {
      const has = (c) => (' ' + cls + ' ').includes(' ' + c + ' ');
      const want = { selected: id === target.id, upstream: up.has(id), downstream: down.has(id) };
      for (const c of Object.keys(want)) if (has(c) !== want[c]) bad.push(id + (has(c) ? ' has ' : ' lacks ') + c);
    }
    check(bad.length === 0, 'the node is .selected, its ancestors .upstream, its descendants .downstream, nothing else', bad.slice(0, 8).join('; '));
    const edgeClasses = await page.$$eval('#graph path.edge', (els) => els.map((e) => [e.getAttribute('data-from'), e.getAttribute('data-to'), e.getAttribute('class')]));
    const badEdges = [];
    for (const [a, b, cls] of edgeClasses) {
      const wantUp = up.has(a) && (b === target.id || up.has(b));
      const wantDown = down.has(b) && (a === target.id || down.has(a));
      if (cls.includes('hl-up') !== wantUp || cls.includes('hl-down') !== wantDown) badEdges.push(a + ' -> ' + b + ' [' + cls + ']');
    }
    check(badEdges.length === 0, 'exactly the lineage edges are highlighted (.hl-up / .hl-down)', badEdges.slice(0, 8).join('; '));
    const unrelated = vg.nodes.find((n) => n.id !== target.id && !up.has(n.id) && !down.has(n.id));
    if (unrelated) {
      const op = await page.$eval(nodeSel(unrelated.id), (e) => new Promise((r) => setTimeout(() => r(getComputedStyle(e).opacity), 400)));
      check(+op < 0.5, 'nodes outside the lineage are dimmed', unrelated.id + ' has opacity ' + op);
    }

    // --- column lineage: an upstream column selects its node ---
    const lineageRef = await page.$('#panel-columns button.ref[data-node]');
    if (lineageRef) {
      const refId = await lineageRef.getAttribute('data-node');
      await lineageRef.click();
      const after = await page.evaluate((sel) => ({
        title: document.getElementById('panel-title').textContent,
        selected: document.querySelector(sel) && document.querySelector(sel).classList.contains('selected')
      }), nodeSel(refId));
      const refNode = data.nodes.find((n) => n.id === refId);
      check(after.selected && refNode && after.title === String(refNode.name), 'clicking a column-lineage entry selects ' + refId, JSON.stringify(after));
    } else {
      console.log('     (the target has no column lineage to click)');
    }

    // --- data is text, never markup ---
    const marked = vg.nodes.filter((n) => /[<>&]/.test(String(n.description || '') + String(n.name || ''))).slice(0, 5);
    for (const n of marked) {
      await clickNode(page, n.id);
      const seen = await page.evaluate(() => ({
        desc: document.getElementById('panel-description').textContent,
        title: document.getElementById('panel-title').textContent,
        injected: document.querySelectorAll('#panel img, #panel script, #panel b, #panel iframe, #graph img').length
      }));
      check(seen.injected === 0 && norm(seen.desc) === norm(n.description) && seen.title === String(n.name),
        'markup in the data of ' + n.id + ' is shown as text', JSON.stringify(seen).slice(0, 300));
    }
    const xss = await page.evaluate(() => window.__kilnXss);
    check(xss === undefined, 'no script from the data ran', 'window.__kilnXss = ' + xss);

    // --- tests toggle ---
    if (testCount > 0) {
      await page.check('#show-tests');
      const withTests = await page.$$eval('#graph g.node', (els) => els.length);
      check(withTests === data.nodes.length, 'Show tests adds the ' + testCount + ' test nodes', 'found ' + withTests + ' g.node');
      await page.uncheck('#show-tests');
      const without = await page.$$eval('#graph g.node', (els) => els.length);
      check(without === vg.nodes.length, 'unticking Show tests hides them again', 'found ' + without);
    }

    // --- the screenshot: the target selected, panel open ---
    await page.click('#zoom-fit');
    await clickNode(page, target.id);
    await page.waitForTimeout(300);
    fs.mkdirSync(path.dirname(shotPath), { recursive: true });
    await page.screenshot({ path: shotPath });
    console.log('     screenshot: ' + shotPath);

    // --- the raw template shows a message instead of failing ---
    if (templateArg) {
      const raw = await context.newPage();
      watch(raw, 'raw template');
      await raw.goto(pathToFileURL(path.resolve(templateArg)).href, { waitUntil: 'load' });
      const st = await raw.evaluate(() => ({
        shown: !document.getElementById('empty').hidden,
        text: document.getElementById('empty').textContent,
        nodes: document.querySelectorAll('g.node').length
      }));
      check(st.shown && /kiln docs generate/.test(st.text) && st.nodes === 0, 'the raw template (DATA null) shows a message', JSON.stringify(st));
      await raw.close();
    }
  } finally {
    check(consoleErrors.length === 0, 'no console errors', consoleErrors.join('\n         '));
    check(foreign.length === 0, 'no network requests besides the page file', foreign.join('\n         '));
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then(() => {
  console.log('docs: ' + passed + ' passed, ' + failed + ' failed');
  process.exit(failed ? 1 : 0);
}, (err) => {
  console.error('browser test crashed: ' + (err && err.stack || err));
  console.log('docs: ' + passed + ' passed, ' + (failed + 1) + ' failed');
  process.exit(1);
});
