#!/usr/bin/env node
// A development stand-in for `wanllmdb server` (doc/api.md), in memory, for working on the UI
// without the C++ build: `node dev/mock-wanllmdb.mjs server --listen 127.0.0.1:8080 --web dist`.
// Not used by the tests unless WANLLMDB_BIN points at it. State is saved to --data on SIGTERM so
// a restart keeps the runs.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const [host, port] = opt('--listen', '127.0.0.1:8080').split(':');
const dataDir = opt('--data', null);
const webDir = opt('--web', null);
const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
const SOURCES = ['stdout', 'stderr', 'sdk', 'user', 'system'];

let db = { projects: {}, runs: {} };
const stateFile = dataDir && join(dataDir, 'mock-state.json');
if (stateFile && existsSync(stateFile)) db = JSON.parse(readFileSync(stateFile, 'utf8'));
const save = () => {
  if (!stateFile) return;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(stateFile, JSON.stringify(db));
};
process.on('SIGTERM', () => {
  save();
  process.exit(0);
});

const iso = (sec) => new Date(sec * 1000).toISOString().replace('Z', '000Z');
const now = () => Date.now() / 1000;
const err = (res, status, code, message) => send(res, status, { error: { code, message } });
function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
const runOut = (r) => {
  const lines = r.lines;
  return {
    id: r.id, project: r.project, name: r.name, state: r.state, exit_code: r.exit_code, created_at: iso(r.created_at),
    finished_at: r.finished_at ? iso(r.finished_at) : null, config: r.config, tags: r.tags,
    line_count: lines.length, error_count: lines.filter((l) => l.level === 'ERROR' || l.level === 'CRITICAL').length, last_line: r.last_line,
  };
};
const lineOut = (r, l) => ({ run_id: r.id, line_number: l.n, timestamp: iso(l.ts), level: l.level, source: l.source, writer: l.writer, message: l.message });

function filterFn(q) {
  const levels = q.get('level')?.split(',');
  const sources = q.get('source')?.split(',');
  const writers = q.get('writer')?.split(',');
  const search = q.get('search')?.toLowerCase();
  let re = null;
  if (q.get('regex')) re = new RegExp(q.get('regex')); // throws -> 422
  return (l) =>
    (!levels || levels.includes(l.level)) && (!sources || sources.includes(l.source)) && (!writers || writers.includes(l.writer)) &&
    (!search || l.message.toLowerCase().includes(search)) && (!re || re.test(l.message));
}

const sockets = new Map(); // runId -> Set<client>
function wsSend(sock, obj) {
  const data = Buffer.from(JSON.stringify(obj));
  let head;
  if (data.length < 126) head = Buffer.from([0x81, data.length]);
  else if (data.length < 65536) head = Buffer.from([0x81, 126, data.length >> 8, data.length & 255]);
  else {
    head = Buffer.alloc(10);
    head[0] = 0x81;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(data.length), 2);
  }
  try { sock.write(Buffer.concat([head, data])); } catch {}
}
function notify(run, type, extra = {}) {
  for (const c of sockets.get(run.id) ?? []) {
    if (type === 'logs') {
      const fresh = run.lines.filter((l) => l.n > c.cursor && c.match(l));
      if (run.lines.length) c.cursor = run.last_line;
      if (fresh.length) wsSend(c.sock, { type: 'logs', logs: fresh.map((l) => lineOut(run, l)) });
    } else wsSend(c.sock, { type, ...extra });
  }
}

function ingest(run, items, writer) {
  const w = (run.writers[writer] ??= -1);
  let accepted = 0, dup = 0, first = null;
  for (const it of items) {
    if (it.seq !== undefined && it.seq !== null) {
      if (it.seq <= run.writers[writer]) { dup++; continue; }
      run.writers[writer] = it.seq;
    }
    for (const msg of String(it.message).split('\n')) {
      const n = ++run.last_line;
      first ??= n;
      const ts = typeof it.timestamp === 'number' ? it.timestamp : it.timestamp ? Date.parse(it.timestamp) / 1000 : now();
      run.lines.push({ n, ts, level: it.level ?? (/error/i.test(msg) ? 'ERROR' : 'INFO'), source: it.source ?? 'stdout', writer, message: msg });
      accepted++;
    }
  }
  void w;
  return { accepted, duplicates: dup, first_line: first, last_line: first === null ? null : run.last_line };
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const s = Buffer.concat(chunks).toString();
  return s ? JSON.parse(s) : {};
}

const server = createServer(async (req, res) => {
  const u = new URL(req.url, 'http://x');
  const p = u.pathname;
  const q = u.searchParams;
  try {
    if (!p.startsWith('/api/v1/')) return serveStatic(p, res);
    const path = p.slice(7);
    let m;
    if (path === '/health') return send(res, 200, { status: 'ok', version: 'mock' });
    if (path === '/auth/whoami') {
      // an open server: no keys, every scope
      return send(res, 200, { auth_required: false, signed_in: true, anonymous: true, via: 'anonymous', name: '', scopes: ['ingest', 'read', 'admin'], projects: [] });
    }
    if (path === '/projects' && req.method === 'GET') {
      const projects = Object.values(db.projects).map((pr) => {
        const runs = Object.values(db.runs).filter((r) => r.project === pr.name);
        return { name: pr.name, created_at: iso(pr.created_at), run_count: runs.length, last_run_at: runs.length ? iso(Math.max(...runs.map((r) => r.created_at))) : null };
      });
      return send(res, 200, { projects });
    }
    if (path === '/runs' && req.method === 'POST') {
      const b = await body(req);
      if (b.id && db.runs[b.id]) return send(res, 200, runOut(db.runs[b.id]));
      db.projects[b.project] ??= { name: b.project, created_at: now() };
      const id = b.id ?? randomUUID();
      db.runs[id] = { id, project: b.project, name: b.name ?? '', state: 'running', exit_code: null, created_at: now(), finished_at: null, config: b.config ?? {}, tags: b.tags ?? [], lines: [], last_line: 0, writers: {} };
      return send(res, 201, runOut(db.runs[id]));
    }
    if (path === '/runs' && req.method === 'GET') {
      const runs = Object.values(db.runs).filter((r) => !q.get('project') || r.project === q.get('project')).sort((a, b) => b.created_at - a.created_at);
      return send(res, 200, { runs: runs.map(runOut) });
    }
    if ((m = /^\/runs\/([^/]+)(\/.*)?$/.exec(path))) {
      const run = db.runs[m[1]];
      if (!run) return err(res, 404, 'not_found', 'unknown run');
      const rest = m[2] ?? '';
      if (rest === '' && req.method === 'GET') return send(res, 200, runOut(run));
      if (rest === '' && req.method === 'PATCH') {
        const b = await body(req);
        if (b.state) { run.state = b.state; if (b.state !== 'running') run.finished_at = now(); }
        if (b.exit_code !== undefined) run.exit_code = b.exit_code;
        notify(run, 'run', { state: run.state, exit_code: run.exit_code });
        return send(res, 200, runOut(run));
      }
      if (rest === '' && req.method === 'DELETE') { delete db.runs[run.id]; res.writeHead(204); return res.end(); }
      if (rest === '/logs' && req.method === 'POST') {
        const b = await body(req);
        const r = ingest(run, [{ ...b, source: b.source ?? 'user' }], b.writer ?? 'main');
        notify(run, 'logs');
        return send(res, 201, lineOut(run, run.lines.find((l) => l.n === r.first_line)));
      }
      if (rest === '/logs/batch' && req.method === 'POST') {
        const b = await body(req);
        if (b.logs.length > 10000) return err(res, 413, 'too_large', 'too many lines');
        const r = ingest(run, b.logs, b.writer ?? 'main');
        setTimeout(() => notify(run, 'logs'), 5);
        return send(res, 200, r);
      }
      if (rest === '/logs' && req.method === 'DELETE') { run.lines = []; notify(run, 'cleared'); res.writeHead(204); return res.end(); }
      let f;
      try { f = filterFn(q); } catch (e) { return err(res, 422, 'invalid_value', 'bad regex: ' + e.message); }
      if (rest === '/logs' && req.method === 'GET') {
        const limit = Number(q.get('limit') ?? 500);
        const after = Number(q.get('after_line') ?? 0);
        const before = q.get('before_line') ? Number(q.get('before_line')) : Infinity;
        const out = [];
        const desc = q.get('order') === 'desc';
        const L = run.lines;
        if (desc) { for (let i = L.length - 1; i >= 0 && out.length <= limit; i--) if (L[i].n < before && L[i].n > after && f(L[i])) out.push(L[i]); }
        else { for (let i = 0; i < L.length && out.length <= limit; i++) if (L[i].n > after && L[i].n < before && f(L[i])) out.push(L[i]); }
        return send(res, 200, { logs: out.slice(0, limit).map((l) => lineOut(run, l)), has_more: out.length > limit });
      }
      if (rest === '/logs/summary') {
        const s = { total: run.lines.length, bytes: 0, by_level: Object.fromEntries(LEVELS.map((l) => [l, 0])), by_source: Object.fromEntries(SOURCES.map((l) => [l, 0])), by_writer: {} };
        for (const l of run.lines) { s.by_level[l.level]++; s.by_source[l.source]++; s.by_writer[l.writer] = (s.by_writer[l.writer] ?? 0) + 1; s.bytes += l.message.length; }
        const L = run.lines;
        return send(res, 200, { ...s, first_timestamp: L.length ? iso(L[0].ts) : null, last_timestamp: L.length ? iso(L.at(-1).ts) : null, first_line: L.length ? L[0].n : 0, last_line: run.last_line });
      }
      if (rest === '/logs/locate') {
        const line = Number(q.get('line'));
        let index = 0, total = 0;
        for (const l of run.lines) if (f(l)) { total++; if (l.n < line) index++; }
        return send(res, 200, { index, total });
      }
      if (rest === '/logs/histogram') {
        const nb = Number(q.get('buckets') ?? 100);
        const L = run.lines.filter(f);
        if (!run.lines.length) return send(res, 200, { buckets: [], since: null, until: null });
        const t0 = run.lines[0].ts, t1 = run.lines.at(-1).ts, w = Math.max(1e-6, (t1 - t0) / nb);
        const buckets = Array.from({ length: nb }, (_, i) => ({ start: iso(t0 + i * w), end: iso(t0 + (i + 1) * w), first_line: null, counts: Object.fromEntries(LEVELS.map((l) => [l, 0])) }));
        for (const l of L) { const b = buckets[Math.min(nb - 1, Math.floor((l.ts - t0) / w))]; b.counts[l.level]++; b.first_line ??= l.n; }
        return send(res, 200, { buckets, since: iso(t0), until: iso(t1) });
      }
      if (rest === '/logs/download') {
        const fmt = q.get('format') ?? 'txt';
        const L = run.lines.filter(f).map((l) => lineOut(run, l));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${run.id}.${fmt}"` });
        if (fmt === 'json') return res.end(JSON.stringify(L));
        if (fmt === 'csv') {
          const esc = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
          return res.end('line_number,timestamp,level,source,writer,message\r\n' + L.map((l) => [l.line_number, l.timestamp, l.level, l.source, l.writer, esc(l.message)].join(',') + '\r\n').join(''));
        }
        return res.end(L.map((l) => `${l.timestamp} [${l.level}] [${l.source}] ${l.message}\n`).join(''));
      }
    }
    return err(res, 404, 'not_found', 'no route');
  } catch (e) {
    return err(res, 400, 'bad_request', String(e));
  }
});

const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };
function serveStatic(p, res) {
  if (!webDir) return err(res, 404, 'not_found', 'no web');
  let file = join(webDir, normalize(p).replace(/^(\.\.[/\\])+/, ''));
  if (!existsSync(file) || p === '/' || !extname(file)) file = join(webDir, 'index.html');
  res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
}

server.on('upgrade', (req, sock) => {
  const u = new URL(req.url, 'http://x');
  const m = /^\/api\/v1\/runs\/([^/]+)\/logs\/stream$/.exec(u.pathname);
  const run = m && db.runs[m[1]];
  if (!run) { sock.end('HTTP/1.1 404 Not Found\r\n\r\n'); return; }
  const key = createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${key}\r\n\r\n`);
  const q = u.searchParams;
  let match;
  try { match = filterFn(q); } catch (e) { wsSend(sock, { type: 'error', error: { code: 'invalid_value', message: 'bad regex' } }); sock.end(); return; }
  const c = { sock, match, cursor: 0 };
  const after = q.get('after_line');
  let backlog;
  if (after !== null) backlog = run.lines.filter((l) => l.n > Number(after) && match(l));
  else backlog = run.lines.filter(match).slice(-Number(q.get('tail') ?? 500));
  c.cursor = run.last_line;
  wsSend(sock, { type: 'logs', logs: backlog.map((l) => lineOut(run, l)) });
  if (!sockets.has(run.id)) sockets.set(run.id, new Set());
  sockets.get(run.id).add(c);
  sock.on('data', (buf) => {
    const op = buf[0] & 15;
    if (op === 8) { sock.end(); return; }
    let len = buf[1] & 127, off = 2;
    if (len === 126) { len = buf.readUInt16BE(2); off = 4; }
    const mask = buf.subarray(off, off + 4);
    const data = Buffer.from(buf.subarray(off + 4, off + 4 + len).map((b, i) => b ^ mask[i % 4]));
    try { if (JSON.parse(data.toString()).type === 'ping') wsSend(sock, { type: 'pong' }); } catch {}
  });
  const drop = () => sockets.get(run.id)?.delete(c);
  sock.on('close', drop);
  sock.on('error', drop);
});

server.listen(Number(port), host, () => console.log(`mock wanllmdb on http://${host}:${port}`));
