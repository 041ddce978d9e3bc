// Profiling aid (not part of npm run bench): the server's side of a jump in a filtered view.
// Times GET .../logs/locate?level=ERROR and the two page reads around the located line on a
// BENCH_LINES-line run (the data stays in PROF_DATA, so a rebuilt server can be timed again on it).
import { existsSync, mkdirSync } from 'node:fs';
import { postMillion, Server } from '../e2e/harness.mjs';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const dir = process.env.PROF_DATA ?? '/tmp/wanllmdb-prof-locate';
const fresh = !existsSync(dir);
mkdirSync(dir, { recursive: true });
const server = new Server(Number(process.env.PROF_PORT ?? 18931), dir);
await server.spawn();
try {
  let run = (await server.req('GET', '/runs?project=prof')).runs?.[0];
  if (fresh || !run) {
    run = await server.createRun('prof', `prof-${LINES}`);
    await postMillion(server, run.id, LINES);
  }
  const time = async (path) => {
    const t = performance.now();
    await server.req('GET', path);
    return performance.now() - t;
  };
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const loc = [], asc = [], desc = [];
  for (let i = 0; i < 10; i++) {
    const line = 8 * (1 + Math.floor((rand() * LINES) / 8 - 1));
    loc.push(await time(`/runs/${run.id}/logs/locate?level=ERROR&line=${line}`));
    asc.push(await time(`/runs/${run.id}/logs?level=ERROR&after_line=${line - 1}&limit=250&order=asc`));
    desc.push(await time(`/runs/${run.id}/logs?level=ERROR&before_line=${line}&limit=250&order=desc`));
  }
  const fmt = (xs) => `median ${med(xs).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
  console.log(`locate level=ERROR: ${fmt(loc)}\nlist after_line (250): ${fmt(asc)}\nlist before_line desc (250): ${fmt(desc)}`);
} finally {
  await server.kill();
}
