// Profiling aid (not part of npm run bench): where the frames of wheel scrolling go. Opens the
// PROF_DATA run of prof_locate.mjs (create it with that first), scrolls by wheel for 3 s as
// bench.mjs does under CDP Tracing, and sums the main thread's top-level trace events by name.
import { launchBrowser, newPage, Server } from '../e2e/harness.mjs';
import { scrollFrames } from './scroll_frames.mjs';

const dir = process.env.PROF_DATA ?? '/tmp/wanllmdb-prof-locate';
const server = new Server(Number(process.env.PROF_PORT ?? 18931), dir);
await server.spawn();
const browser = await launchBrowser();
try {
  const run = (await server.req('GET', '/runs?project=prof')).runs[0];
  const page = await newPage(browser, server);
  const cdp = await page.context().newCDPSession(page);
  await page.goto(`/runs/${run.id}`);
  await page.waitForSelector(`.row[data-line="${run.line_count ?? run.last_line}"]`, { timeout: 30000 });
  await page.evaluate(() => (document.querySelector('[data-testid="log-scroller"]').scrollTop = 0));
  await new Promise((r) => setTimeout(r, 500));
  const events = [];
  cdp.on('Tracing.dataCollected', (d) => events.push(...d.value));
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await cdp.send('Tracing.start', { categories: 'toplevel,devtools.timeline,disabled-by-default-devtools.timeline,blink.user_timing,v8.execute,cc', transferMode: 'ReportEvents' });
  const mode = process.env.PROF_MODE ?? 'wheel';
  const frames = (await page.evaluate(scrollFrames, mode)).times;
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.send('Tracing.end');
  await done;
  // the renderer main thread (there is one per renderer process; take the busiest)
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const busy = new Map();
  for (const e of events) if (e.ph === 'X' && e.dur && mains.has(`${e.pid}:${e.tid}`)) busy.set(`${e.pid}:${e.tid}`, (busy.get(`${e.pid}:${e.tid}`) ?? 0) + e.dur);
  const main = [...busy.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const sums = new Map();
  for (const e of events) {
    if (`${e.pid}:${e.tid}` !== main || e.ph !== 'X' || !e.dur) continue;
    // thread time (tdur): CPU the main thread spent, not the wall time other processes took
    sums.set(e.name, (sums.get(e.name) ?? 0) + (e.tdur ?? e.dur) / 1000);
  }
  // CPU per frame on every thread of Chromium (2 cores: raster and compositor threads compete
  // with the main thread and the server): top-level tasks' thread time, by thread name
  const names = new Map(events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args.name]));
  const perThread = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || !['ThreadControllerImpl::RunTask', 'TaskGraphRunner::RunTask', 'RasterTask', 'ThreadPool_RunTask'].includes(e.name)) continue;
    const n = (names.get(`${e.pid}:${e.tid}`) ?? '?').replace(/\d+$/, '');
    perThread.set(n, (perThread.get(n) ?? 0) + (e.tdur ?? e.dur) / 1000);
  }
  console.log('CPU per frame by thread (ms):', [...perThread.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${(v / frames.length).toFixed(2)}`).join(', '));
  const mean = frames.reduce((a, b) => a + b, 0) / frames.length;
  console.log(`${mode}: ${frames.length} frames, mean ${mean.toFixed(1)} ms; main thread CPU time by event per frame (ms, thread time; nested events count in their parents too):`);
  for (const [k, v] of [...sums.entries()].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(`  ${k.padEnd(40)} ${(v / frames.length).toFixed(2)}`);
  // JS self time by function (sampled)
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = (profile.endTime - profile.startTime) / 1000 / profile.samples.length;
  for (const id of profile.samples) {
    const cf = byId.get(id).callFrame;
    const k = `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}:${cf.lineNumber}`;
    self.set(k, (self.get(k) ?? 0) + dt);
  }
  console.log('JS self time (ms):');
  for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${k.padEnd(60)} ${v.toFixed(0)}`);
} finally {
  await browser.close();
  await server.kill();
}
