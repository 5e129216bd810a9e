// Browser test of the live dashboard: open it in headless Chromium, wait until a chart has drawn
// real data, check that the charts move, and save a screenshot.
//
//   DASHBOARD_URL=http://127.0.0.1:8080/ SCREENSHOT=/tmp/dashboard.png node dashboard.test.mjs
//
// playwright-core is a devDependency of web/ (installed by `npm ci --prefix web`); it drives the
// system Chromium and downloads no browser of its own.

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const url = process.env.DASHBOARD_URL;
const screenshot = process.env.SCREENSHOT;
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const webDir = process.env.RESONANCE_WEB_DIR ?? new URL('../../../web/', import.meta.url).pathname;

function fail(message) {
  console.error(`dashboard test: FAIL: ${message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (!url) fail('set DASHBOARD_URL to the dashboard address, e.g. http://127.0.0.1:8080/');

let chromium;
try {
  ({ chromium } = createRequire(join(webDir, 'package.json'))('playwright-core'));
} catch (e) {
  fail(`cannot load playwright-core from ${webDir}node_modules (run \`npm ci --prefix web\`): ${e.message}`);
}

const userDataDir = mkdtempSync(join(tmpdir(), 'resonance-chromium-'));
const args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Everything the page reports that would mean it is broken.
const pageErrors = [];

async function run() {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args,
    viewport: { width: 1440, height: 900 },
    timeout: 60_000,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console: ${m.text()} (${m.location()?.url ?? ''})`); });
    page.on('requestfailed', (r) => pageErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));

    const response = await page.goto(url, { waitUntil: 'load', timeout: 20_000 });
    if (!response || !response.ok()) throw new Error(`GET ${url} answered ${response?.status()}`);

    // 1. A chart has drawn data: a uPlot instance holds more than one point ...
    await page.waitForFunction(
      () => [...(window.__resonance?.charts?.values() ?? [])].some((u) => u.data[0].length > 1),
      null, { timeout: 30_000, polling: 250 },
    ).catch(() => { throw new Error('no chart received more than one point within 30 s'); });

    const before = await page.evaluate(snapshot);
    // ... and its canvas really has ink on it (not just data in memory).
    if (before.inkedCanvases === 0) throw new Error('charts have data but every canvas is blank');

    // 2. The charts move: within a few seconds the newest point of some chart advances.
    await page.waitForTimeout(3500);
    const after = await page.evaluate(snapshot);
    const moved = Object.keys(after.lastX).filter((id) => after.lastX[id] > (before.lastX[id] ?? -Infinity));
    if (moved.length === 0) throw new Error(`no chart advanced in 3.5 s: ${JSON.stringify(after.lastX)}`);

    // 3. The header shows a healthy node.
    const status = await page.textContent('#status');
    if (status !== 'Healthy') throw new Error(`header status is '${status}', expected 'Healthy'`);
    const version = await page.textContent('#version');
    if (!/^v\d+\.\d+\.\d+/.test(version ?? '')) throw new Error(`header version is '${version}'`);

    // 4. Units: MQTT-SN registers no unit, so the API takes it from the information model and
    // every temperature card shows °C in its title and beside its value once it has one.
    const cards = await page.$$eval('.card', (els) => els.map((c) => ({
      signal: c.dataset.signal,
      title: c.querySelector('.card-title .unit')?.textContent ?? '',
      value: c.querySelector('.card-value')?.textContent ?? '',
      valueUnit: c.querySelector('.card-value .unit')?.textContent ?? '',
    })));
    const temps = cards.filter((c) => c.signal.includes('temperature'));
    if (temps.length === 0) throw new Error('no temperature card on the dashboard');
    const wrong = temps.filter((c) => c.title !== '(°C)' || (c.value !== '—' && c.valueUnit !== '°C'));
    if (wrong.length) throw new Error(`temperature cards without °C: ${JSON.stringify(wrong)}`);

    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    if (pageErrors.length) throw new Error(`the page reported errors:\n  ${pageErrors.join('\n  ')}`);

    console.log(`dashboard test: ${after.charts} charts, ${after.withData} with data, ` +
      `${moved.length} moved, ${after.inkedCanvases} canvases drawn, ${temps.length} in °C, status ${status}` +
      (screenshot ? `, screenshot ${screenshot}` : ''));
  } finally {
    await context.close();
  }
}

// Runs in the page.
function snapshot() {
  const charts = [...window.__resonance.charts.entries()];
  const lastX = {};
  let withData = 0;
  for (const [id, u] of charts) {
    const xs = u.data[0];
    if (xs.length > 1) withData++;
    if (xs.length) lastX[id] = xs[xs.length - 1];
  }
  let inkedCanvases = 0;
  for (const canvas of document.querySelectorAll('.uplot canvas')) {
    const { width, height } = canvas;
    if (!width || !height) continue;
    const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    let ink = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) ink++;
    if (ink > 200) inkedCanvases++;
  }
  return { charts: charts.length, withData, lastX, inkedCanvases };
}

try {
  await run();
  console.log('1 passed, 0 failed');
} catch (e) {
  fail(e.message);
} finally {
  rmSync(userDataDir, { recursive: true, force: true });
}
