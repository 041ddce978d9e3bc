import { describe, expect, it } from 'vitest';
import type { LogLine } from '../api/types';
import { Backoff, LiveConnection, LiveCursor, type LiveStatus, type SocketLike } from './live';

const mk = (n: number): LogLine => ({
  run_id: 'r',
  line_number: n,
  timestamp: '2024-01-01T00:00:00Z',
  level: 'INFO',
  source: 'stdout',
  writer: 'main',
  message: `m${n}`,
});

describe('LiveCursor', () => {
  it('passes only lines after the cursor and advances', () => {
    const c = new LiveCursor(10);
    expect(c.accept([mk(9), mk(10), mk(11), mk(12)]).map((l) => l.line_number)).toEqual([11, 12]);
    expect(c.last).toBe(12);
    expect(c.accept([mk(12), mk(11)])).toEqual([]);
    expect(c.accept([mk(20)]).map((l) => l.line_number)).toEqual([20]);
  });
});

describe('Backoff', () => {
  it('doubles up to the cap with bounded jitter, and resets', () => {
    const b = new Backoff(500, 10_000, () => 0.5);
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([
      500, 1000, 2000, 4000, 8000, 10000, 10000,
    ]);
    b.reset();
    expect(b.next()).toBe(500);
    const lo = new Backoff(500, 10_000, () => 0);
    const hi = new Backoff(500, 10_000, () => 0.999);
    expect(lo.next()).toBe(400);
    expect(hi.next()).toBeLessThanOrEqual(600);
  });
});

class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(d: string) {
    this.sent.push(d);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.({});
  }
  frame(obj: unknown) {
    this.onmessage?.({ data: JSON.stringify(obj) });
  }
  drop() {
    this.onclose?.({});
  }
}

function harness(start = 0) {
  const sockets: FakeSocket[] = [];
  const timers: Array<{ fn: () => void; ms: number; id: number }> = [];
  let nextId = 1;
  let now = 0;
  const lines: number[] = [];
  const statuses: Array<[LiveStatus, number | undefined]> = [];
  let cleared = 0;
  const conn = new LiveConnection(
    start,
    {
      onLines: (ls) => lines.push(...ls.map((l) => l.line_number)),
      onRun: () => {},
      onCleared: () => cleared++,
      onStatus: (s, d) => statuses.push([s, d.retryInMs]),
    },
    {
      url: (after) => `ws://x/stream?after_line=${after}`,
      createSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      setTimeout: (fn, ms) => {
        const id = nextId++;
        timers.push({ fn, ms, id });
        return id;
      },
      clearTimeout: (id) => {
        const i = timers.findIndex((t) => t.id === id);
        if (i >= 0) timers.splice(i, 1);
      },
      now: () => now,
      random: () => 0.5,
    },
  );
  const fire = (pred: (ms: number) => boolean) => {
    const i = timers.findIndex((t) => pred(t.ms));
    const [t] = timers.splice(i, 1);
    t!.fn();
  };
  return { conn, sockets, timers, lines, statuses, fire, get cleared() { return cleared; }, advance: (ms: number) => (now += ms) };
}

describe('LiveConnection', () => {
  it('resumes from the last line seen after a drop, without duplicates or gaps', () => {
    const h = harness(100);
    h.conn.start();
    expect(h.sockets[0]!.url).toContain('after_line=100');
    h.sockets[0]!.open();
    h.sockets[0]!.frame({ type: 'logs', logs: [mk(101), mk(102)] });
    h.sockets[0]!.drop();
    expect(h.conn.status).toBe('reconnecting');
    expect(h.statuses.at(-1)).toEqual(['reconnecting', 500]);
    h.fire((ms) => ms === 500);
    expect(h.sockets[1]!.url).toContain('after_line=102');
    h.sockets[1]!.open();
    // the server replays from 102; an overlapping frame must not duplicate
    h.sockets[1]!.frame({ type: 'logs', logs: [mk(102), mk(103)] });
    h.sockets[1]!.frame({ type: 'logs', logs: [mk(104)] });
    expect(h.lines).toEqual([101, 102, 103, 104]);
  });

  it('backs off while the server is down and resets after a frame', () => {
    const h = harness(0);
    h.conn.start();
    h.sockets[0]!.drop();
    h.fire(() => true);
    h.sockets[1]!.drop();
    expect(h.statuses.at(-1)).toEqual(['reconnecting', 1000]);
    h.fire(() => true);
    h.sockets[2]!.open();
    h.sockets[2]!.frame({ type: 'logs', logs: [] });
    h.sockets[2]!.drop();
    expect(h.statuses.at(-1)).toEqual(['reconnecting', 500]);
  });

  it('pauses without reconnecting and resumes from the cursor', () => {
    const h = harness(5);
    h.conn.start();
    h.sockets[0]!.open();
    h.sockets[0]!.frame({ type: 'logs', logs: [mk(6)] });
    h.conn.pause();
    expect(h.sockets[0]!.closed).toBe(true);
    expect(h.conn.status).toBe('paused');
    expect(h.timers.length).toBe(0);
    h.conn.resume();
    expect(h.sockets[1]!.url).toContain('after_line=6');
  });

  it('stops on a server error frame and reports cleared', () => {
    const h = harness(0);
    h.conn.start();
    h.sockets[0]!.open();
    h.sockets[0]!.frame({ type: 'cleared' });
    expect(h.cleared).toBe(1);
    h.sockets[0]!.frame({ type: 'error', error: { code: 'invalid_value', message: 'bad regex' } });
    expect(h.conn.status).toBe('failed');
    expect(h.timers.length).toBe(0);
  });

  it('pings and replaces a stale connection', () => {
    const h = harness(0);
    h.conn.start();
    h.sockets[0]!.open();
    h.fire((ms) => ms === 15_000);
    expect(h.sockets[0]!.sent).toEqual(['{"type":"ping"}']);
    h.advance(50_000);
    h.fire((ms) => ms === 15_000);
    expect(h.conn.status).toBe('reconnecting');
  });
});
