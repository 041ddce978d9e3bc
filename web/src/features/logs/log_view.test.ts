import { describe, expect, it } from 'vitest';
import type { Level, LogLine, LogSummary, Run, ServerFilters } from '../../api/types';
import type { SocketLike } from '../../lib/live';
import { LogView, type LogApi } from './log_view';

const NONE: ServerFilters = { levels: [], sources: [], writers: [], search: '', regex: false };
const levelOf = (n: number): Level => (n % 10 === 0 ? 'ERROR' : n % 3 === 0 ? 'WARNING' : 'INFO');

/** An in-memory server holding lines first..last (level filter only), counting requests. */
function fakeServer(first: number, last: number) {
  const mk = (n: number): LogLine => ({
    run_id: 'r',
    line_number: n,
    timestamp: '2024-01-01T00:00:00Z',
    level: levelOf(n),
    source: 'stdout',
    writer: 'main',
    message: `line ${n}`,
  });
  const state = { first, last, requests: 0 };
  const matches = (f: ServerFilters | null, n: number) => !f?.levels.length || f.levels.includes(levelOf(n));
  const api: LogApi = {
    getRun: async () => ({ id: 'r', state: 'running', last_line: state.last }) as unknown as Run,
    summary: async () =>
      ({ total: state.last - state.first + 1, first_line: state.first, last_line: state.last, by_level: {}, by_source: {}, by_writer: {} }) as unknown as LogSummary,
    listLogs: async (_id, f, p) => {
      state.requests++;
      const out: LogLine[] = [];
      const limit = p.limit ?? 500;
      if (p.order === 'desc') {
        for (let n = Math.min(state.last, (p.beforeLine ?? state.last + 1) - 1); n >= state.first && out.length < limit; n--)
          if (matches(f, n)) out.push(mk(n));
      } else {
        for (let n = Math.max(state.first, (p.afterLine ?? 0) + 1); n <= state.last && out.length < limit; n++)
          if (matches(f, n)) out.push(mk(n));
      }
      return { logs: out, has_more: false };
    },
    locate: async (_id, f, line) => {
      state.requests++;
      // count matching lines in [first, line): closed form for the level filter used in tests
      const count = (upTo: number) => {
        let c = 0;
        for (const lv of f?.levels.length ? f.levels : (['INFO', 'WARNING', 'ERROR'] as Level[])) {
          const m10 = Math.floor(upTo / 10);
          const m3 = Math.floor(upTo / 3);
          const m30 = Math.floor(upTo / 30);
          if (lv === 'ERROR') c += m10;
          if (lv === 'WARNING') c += m3 - m30;
          if (lv === 'INFO') c += upTo - m10 - (m3 - m30);
        }
        return c;
      };
      const hi = Math.min(line - 1, state.last);
      return { index: hi < state.first ? 0 : count(hi) - count(state.first - 1), total: count(state.last) - count(state.first - 1) };
    },
  };
  return { api, state, mk };
}

class Sock implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly after: number) {}
  send() {}
  close() {}
  push(lines: LogLine[]) {
    this.onmessage?.({ data: JSON.stringify({ type: 'logs', logs: lines }) });
  }
}

function setup(filters: ServerFilters, first = 1, last = 1_000_000) {
  const srv = fakeServer(first, last);
  const sockets: Sock[] = [];
  const view = new LogView('r', filters, srv.api, {
    createSocket: (after) => {
      const s = new Sock(after);
      sockets.push(s);
      return s;
    },
    timers: { setTimeout: () => 0, clearTimeout: () => {}, now: () => 0 },
  });
  return { view, srv, sockets };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
async function load(view: LogView, first: number, end: number) {
  view.ensure(first, end);
  for (let i = 0; i < 50 && [...Array(end - first).keys()].some((k) => !view.line(first + k)); i++) await settle();
}

describe('LogView', () => {
  it('counts an unfiltered run and reaches any line directly', async () => {
    const { view, srv, sockets } = setup(NONE, 11, 1_000_010);
    await view.open();
    expect(view.snapshot().total).toBe(1_000_000);
    expect(sockets[0]!.after).toBe(1_000_010);
    const idx = await view.indexOfLine(500_000);
    expect(idx).toBe(499_989);
    const before = srv.state.requests;
    await load(view, idx, idx + 40);
    expect(view.line(idx)!.line_number).toBe(500_000);
    expect(view.line(idx + 39)!.line_number).toBe(500_039);
    expect(srv.state.requests - before).toBeLessThanOrEqual(3);
    expect(view.cache.size()).toBeLessThanOrEqual(64 * 500);
  });

  it('positions a filtered view anywhere with few locate calls', async () => {
    const errors: ServerFilters = { ...NONE, levels: ['ERROR'] };
    const { view, srv } = setup(errors);
    await view.open();
    expect(view.snapshot().total).toBe(100_000);
    const before = srv.state.requests;
    await load(view, 61_234, 61_260);
    // the k-th ERROR line is line 10 * (k + 1)
    expect(view.line(61_234)!.line_number).toBe(612_350);
    expect(view.line(61_259)!.line_number).toBe(612_600);
    expect(srv.state.requests - before).toBeLessThan(30);
    expect(await view.indexOfLine(612_350)).toBe(61_234);
    expect(await view.indexOfLine(612_351)).toBe(61_235); // filtered out: the next matching row
  });

  it('tells which line a filtered view landed on', async () => {
    const { view } = setup({ ...NONE, levels: ['ERROR'] });
    await view.open();
    const idx = await view.indexOfLine(400_005); // not an ERROR line: the next one is 400,010
    view.ensure(idx, idx + 10);
    expect((await view.whenLoaded(idx))!.line_number).toBe(400_010);
  });

  it('pages a filtered view from a located line without searching again', async () => {
    const { view, srv } = setup({ ...NONE, levels: ['ERROR'] });
    await view.open();
    const idx = await view.indexOfLine(400_000);
    expect(idx).toBe(39_999);
    const before = srv.state.requests;
    await load(view, idx, idx + 30);
    expect(view.line(idx)!.line_number).toBe(400_000);
    expect(srv.state.requests - before).toBeLessThanOrEqual(3); // list requests only, no locate search
  });

  it('appends live lines once, and clears', async () => {
    const { view, srv, sockets } = setup(NONE, 1, 100);
    await view.open();
    const appended: number[] = [];
    view.onAppend((n) => appended.push(n));
    sockets[0]!.onopen?.({});
    sockets[0]!.push([srv.mk(100), srv.mk(101), srv.mk(102)]);
    sockets[0]!.push([srv.mk(102), srv.mk(103)]);
    expect(view.snapshot().total).toBe(103);
    expect(view.line(102)!.line_number).toBe(103);
    expect(appended).toEqual([2, 1]);
    expect(view.snapshot().summary!.total).toBe(103);
    sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'cleared' }) });
    expect(view.snapshot().total).toBe(0);
    expect(view.line(0)).toBeUndefined();
    // numbering continues after a clear
    sockets[0]!.push([srv.mk(104)]);
    expect(view.snapshot().total).toBe(1);
    expect(view.line(0)!.line_number).toBe(104);
  });

  it('appends to a filtered view by arrival', async () => {
    const { view, srv, sockets } = setup({ ...NONE, levels: ['ERROR'] }, 1, 100);
    await view.open();
    expect(view.snapshot().total).toBe(10);
    sockets[0]!.push([srv.mk(110), srv.mk(120)]);
    expect(view.snapshot().total).toBe(12);
    expect(view.line(11)!.line_number).toBe(120);
  });

  it('opens an empty or cleared run (first_line 0, last_line = last assigned)', async () => {
    const { view, srv, sockets } = setup(NONE, 1, 100);
    srv.api.summary = async () =>
      ({ total: 0, first_line: 0, last_line: 100, by_level: {}, by_source: {}, by_writer: {} }) as unknown as LogSummary;
    await view.open();
    expect(view.snapshot().total).toBe(0);
    expect(sockets[0]!.after).toBe(100);
    sockets[0]!.push([srv.mk(101)]);
    expect(view.snapshot().total).toBe(1);
    expect(view.line(0)!.line_number).toBe(101);
  });

  it('reports an error state when the run cannot be loaded', async () => {
    const { view, srv } = setup(NONE);
    srv.api.getRun = async () => {
      throw new Error('run not found');
    };
    await view.open();
    expect(view.snapshot().phase).toBe('error');
    expect(view.snapshot().error).toBe('run not found');
  });

  it('pages a time-ordered view by position and appends live lines at the end', async () => {
    // Lines 1..100; the time order swaps each pair (2, 1, 4, 3, ...).
    const srv = fakeServer(1, 100);
    const lineAt = (p: number) => (p % 2 === 0 ? p + 2 : p);
    const asked: Array<Record<string, unknown>> = [];
    srv.api.listLogs = async (_id, _f, p) => {
      asked.push({ ...p });
      const out: LogLine[] = [];
      for (let q = p.offset ?? 0; q < Math.min(100, (p.offset ?? 0) + (p.limit ?? 500)); q++) out.push(srv.mk(lineAt(q)));
      return { logs: out, has_more: false, offset: p.offset, total: 100 };
    };
    srv.api.locate = async (_id, _f, line, _s, v) => {
      asked.push({ locate: line, ...v });
      return { index: line > 100 ? 100 : line % 2 === 0 ? line - 2 : line, total: 100, up_to_line: 100 };
    };
    const sockets: Sock[] = [];
    const view = new LogView('r', NONE, srv.api, {
      createSocket: (after) => {
        const s = new Sock(after);
        sockets.push(s);
        return s;
      },
      timers: { setTimeout: () => 0, clearTimeout: () => {}, now: () => 0 },
      timeOrder: true,
    });
    await view.open();
    expect(view.unfiltered).toBe(false);
    expect(view.snapshot().total).toBe(100);
    expect(asked[0]).toMatchObject({ locate: 101, sort: 'time', upToLine: 100 });
    await load(view, 0, 10);
    expect([0, 1, 2, 3].map((i) => view.line(i)!.line_number)).toEqual([2, 1, 4, 3]);
    expect(asked.find((a) => a.offset === 0)).toMatchObject({ sort: 'time', upToLine: 100 });
    expect(await view.indexOfLine(3)).toBe(3);
    sockets[0]!.push([srv.mk(101)]);
    expect(view.snapshot().total).toBe(101);
    expect(view.line(100)!.line_number).toBe(101);
  });
});
