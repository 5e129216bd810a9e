// Resonance live dashboard. Plain ES module, no build step: the binary serves this file as is.
//
// Data flow: GET /api/v1/series lists the signals; each second every chart asks
// GET /api/v1/query for the points after its cursor (the server's `next_from`, a string because
// nanosecond timestamps do not fit a JavaScript number) and keeps a rolling window.

const WINDOW_S = 120;          // rolling window per chart
const POLL_MS = 1000;          // chart refresh
const HEALTH_MS = 2000;        // header refresh
const SERIES_REFRESH_MS = 10000;  // how often to look for newly created series
const NS_PER_MS = 1000000n;

const uPlot = window.uPlot;

// Exposed for the browser test and for poking at it from the devtools console.
const state = {
  series: new Map(),       // id -> SeriesView
  charts: new Map(),       // id -> uPlot instance
  clockOffsetMs: 0,        // server clock minus browser clock, from /api/v1/health
  polls: 0,
  errors: 0,
  lastError: null,
};
window.__resonance = state;

const $ = (id) => document.getElementById(id);

async function getJson(url) {
  const response = await fetch(url, { cache: 'no-store' });
  let body = null;
  try { body = await response.json(); } catch { /* not JSON: reported below */ }
  if (!response.ok) {
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new Error(`${url}: ${message}`);
  }
  return body;
}

function serverNowMs() { return Date.now() + state.clockOffsetMs; }

function formatCount(n) {
  if (n == null) return '—';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

function formatUptime(s) {
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

function formatValue(v) {
  if (v == null || Number.isNaN(v)) return '—';
  const abs = Math.abs(v);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return v.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// OPC UA status code layout: the top two bits are the severity.
function qualityOf(code) {
  const severity = code >>> 30;
  if (severity === 0) return ['good', 'Good'];
  if (severity === 1) return ['uncertain', 'Uncertain'];
  return ['bad', 'Bad'];
}

function showBanner(text) {
  const banner = $('banner');
  banner.textContent = text ?? '';
  banner.classList.toggle('hidden', !text);
}

// ---- header ---------------------------------------------------------------------------------

async function refreshHealth() {
  const status = $('status');
  try {
    const h = await getJson('/api/v1/health');
    const serverMs = Date.parse(h.time);
    if (!Number.isNaN(serverMs)) state.clockOffsetMs = serverMs - Date.now();
    $('node-name').textContent = h.node;
    $('version').textContent = `v${h.version}`;
    document.title = `${h.node} · Resonance`;
    status.textContent = h.status === 'ok' ? 'Healthy' : h.status;
    status.className = `status ${h.status === 'ok' ? 'status-ok' : 'status-down'}`;
    $('stat-series').textContent = formatCount(h.series_count);
    $('stat-samples').textContent = formatCount(h.historian?.samples_appended);
    $('stat-head').textContent = formatCount(h.historian?.head_samples);
    $('stat-uptime').textContent = formatUptime(h.uptime_s);
    return true;
  } catch (e) {
    status.textContent = 'Unreachable';
    status.className = 'status status-down';
    state.lastError = String(e);
    return false;
  }
}

// ---- series and charts ----------------------------------------------------------------------

// site/area/line/equipment/signal: charts are grouped by equipment (segment 4).
function splitPath(path) {
  const parts = path.split('/');
  return {
    groupKey: parts.slice(0, 4).join('/'),
    equipment: parts[3] ?? path,
    where: parts.slice(0, 3).join(' / '),
    signal: parts[4] ?? path,
  };
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function groupElement(key, equipment, where) {
  const id = `group-${key}`;
  let group = document.getElementById(id);
  if (group) return group.querySelector('.grid');
  group = el('section', 'group');
  group.id = id;
  group.dataset.key = key;
  const head = el('div', 'group-head');
  head.append(el('h2', null, equipment), el('span', 'where', where), el('span', 'count'));
  group.append(head, el('div', 'grid'));
  // Keep groups in path order however the series arrived.
  const groups = $('groups');
  const after = [...groups.children].find((g) => g.dataset.key > key);
  groups.insertBefore(group, after ?? null);
  return group.querySelector('.grid');
}

function updateGroupCounts() {
  for (const group of document.querySelectorAll('.group')) {
    const n = group.querySelectorAll('.card').length;
    group.querySelector('.count').textContent = `${n} signal${n === 1 ? '' : 's'}`;
  }
}

const timeLabel = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});

// What a person reads as the unit: the symbol (°C, mm/min) the API gives from the information
// model or the connector, else the raw unit text. A plain count (symbol "1") shows none.
function unitLabel(info) {
  const label = info.unit_symbol ?? info.unit ?? '';
  return label === '1' ? '' : label;
}

function makePlot(container, unit) {
  const width = Math.max(200, container.clientWidth);
  const opts = {
    width,
    height: 150,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    scales: { x: { time: true } },
    series: [
      {},
      {
        label: unit || 'value',
        stroke: '#2563eb',
        width: 1.5,
        fill: 'rgba(37, 99, 235, 0.08)',
        points: { show: false },
      },
    ],
    axes: [
      {
        stroke: '#64748b', font: '11px system-ui', space: 70, size: 30,
        // One compact line (HH:MM:SS) instead of uPlot's two-line date + time.
        values: (u, splits) => splits.map((s) => timeLabel.format(new Date(s * 1000))),
        grid: { stroke: '#eef2f7', width: 1 }, ticks: { stroke: '#e2e8f0', width: 1, size: 4 },
      },
      {
        stroke: '#64748b', font: '11px system-ui', size: 52,
        grid: { stroke: '#eef2f7', width: 1 }, ticks: { stroke: '#e2e8f0', width: 1, size: 4 },
      },
    ],
  };
  const plot = new uPlot(opts, [[], []], container);
  new ResizeObserver(() => {
    const w = Math.max(200, container.clientWidth);
    if (w !== plot.width) plot.setSize({ width: w, height: 150 });
  }).observe(container);
  return plot;
}

function addSeries(info) {
  const { groupKey, equipment, where, signal } = splitPath(info.path);
  const grid = groupElement(groupKey, equipment, where);

  const card = el('article', 'card');
  card.dataset.seriesId = info.id;
  card.dataset.signal = signal;
  const head = el('div', 'card-head');
  const title = el('div', 'card-title', signal);
  title.title = info.path;
  const unit = unitLabel(info);
  if (unit) {
    const span = el('span', 'unit', `(${unit})`);
    if (info.unit && info.unit !== unit) span.title = `UNECE ${info.unit}`;
    title.append(span);
  }
  const value = el('div', 'card-value', '—');
  head.append(title, value);
  const meta = el('div', 'card-meta');
  const quality = el('span', 'quality', '');
  const updated = el('span', 'updated', 'no data yet');
  meta.append(quality, updated);
  const chart = el('div', 'chart');
  card.append(head, meta, chart);

  const after = [...grid.children].find((c) => c.dataset.signal > signal);
  grid.insertBefore(card, after ?? null);

  const view = { info, xs: [], ys: [], cursor: null, lastTsMs: null, value, quality, updated };
  view.plot = makePlot(chart, unit);
  state.series.set(info.id, view);
  state.charts.set(info.id, view.plot);
}

async function refreshSeries() {
  const { series } = await getJson('/api/v1/series');
  for (const info of series) if (!state.series.has(info.id)) addSeries(info);
  $('empty').classList.toggle('hidden', series.length > 0);
  updateGroupCounts();
}

function windowStartNs() {
  return (BigInt(Math.floor(serverNowMs() - WINDOW_S * 1000)) * NS_PER_MS).toString();
}

async function pollSeries(view) {
  const from = view.cursor ?? windowStartNs();
  const body = await getJson(`/api/v1/query?series=${view.info.id}&from=${from}`);
  view.cursor = body.next_from;
  for (const [tsNs, v, q] of body.points) {
    view.xs.push(tsNs / 1e9);  // uPlot time scales are in seconds
    view.ys.push(v);
    view.lastQuality = q;
    view.lastValue = v;
    view.lastTsMs = tsNs / 1e6;
  }
  // Drop what slid out of the window.
  const cutoff = serverNowMs() / 1000 - WINDOW_S;
  let drop = 0;
  while (drop < view.xs.length && view.xs[drop] < cutoff) drop++;
  if (drop) { view.xs.splice(0, drop); view.ys.splice(0, drop); }
  return body.points.length;
}

function render(view) {
  const nowS = serverNowMs() / 1000;
  view.plot.setData([view.xs, view.ys], false);
  // A young series fills its chart (at least 10 s shown) instead of a sliver at the right edge;
  // once it has a full window of history the window simply rolls.
  const first = view.xs.length ? view.xs[0] : -Infinity;
  const xMin = Math.max(nowS - WINDOW_S, Math.min(first, nowS - 10));
  view.plot.setScale('x', { min: xMin, max: nowS });
  // y auto-ranges over the visible window; pad a flat line so it sits mid-chart.
  let lo = Infinity, hi = -Infinity;
  for (const y of view.ys) if (y != null) { if (y < lo) lo = y; if (y > hi) hi = y; }
  if (lo <= hi) {
    const pad = hi > lo ? (hi - lo) * 0.08 : Math.max(1, Math.abs(hi) * 0.05);
    view.plot.setScale('y', { min: lo - pad, max: hi + pad });
  }
  if (view.lastTsMs != null) {
    const unitText = unitLabel(view.info);
    const unit = unitText ? `<span class="unit">${escapeHtml(unitText)}</span>` : '';
    view.value.innerHTML = `${formatValue(view.lastValue)}${unit}`;
    const [cls, label] = qualityOf(view.lastQuality ?? 0);
    view.quality.textContent = label;
    view.quality.className = `quality quality-${cls}`;
    const ageS = Math.max(0, (serverNowMs() - view.lastTsMs) / 1000);
    view.updated.textContent = ageS < 2 ? 'live' : `updated ${formatUptime(ageS)} ago`;
  }
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function pollAll() {
  const views = [...state.series.values()];
  const results = await Promise.allSettled(views.map(pollSeries));
  let failed = 0;
  results.forEach((r, i) => {
    if (r.status === 'rejected') { failed++; state.lastError = String(r.reason); }
    render(views[i]);
  });
  state.polls++;
  if (failed) state.errors++;
  return failed === 0;
}

// ---- main loop ------------------------------------------------------------------------------

function every(ms, fn) {
  // setTimeout after completion, not setInterval: a slow server never gets overlapping polls.
  const tick = async () => {
    try { await fn(); } catch (e) { state.errors++; state.lastError = String(e); }
    setTimeout(tick, ms);
  };
  tick();
}

async function main() {
  if (!uPlot) { showBanner('uPlot failed to load: /assets/uPlot.iife.min.js'); return; }
  every(HEALTH_MS, async () => {
    const up = await refreshHealth();
    showBanner(up ? null : `Cannot reach the node's API (${state.lastError}). Retrying…`);
  });
  await refreshHealth();
  every(SERIES_REFRESH_MS, refreshSeries);
  every(POLL_MS, pollAll);
}

main();
