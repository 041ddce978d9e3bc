// Live tail bookkeeping: which lines are new (LiveCursor), when to retry (Backoff), and the
// WebSocket lifecycle that ties them together (LiveConnection).
//
// The invariant that gives "no duplicates, no gaps": the cursor is the highest line number the
// view has accounted for. Every (re)connection asks for after_line = cursor, the server sends
// exactly the lines after it, and the cursor drops anything at or below itself (a frame that
// raced a reconnect). The first connection starts from the last line the view already counted
// (from the summary), so the backlog is never counted twice either.
import type { LogLine, ProgressLine, RunState, StreamFrame } from '../api/types';

export class LiveCursor {
  constructor(private last_: number) {}

  get last(): number {
    return this.last_;
  }

  /** The lines after the cursor, in order; advances the cursor past them. */
  accept(lines: readonly LogLine[]): LogLine[] {
    const out: LogLine[] = [];
    for (const l of lines) {
      if (l.line_number > this.last_) {
        out.push(l);
        this.last_ = l.line_number;
      }
    }
    return out;
  }
}

/** Capped exponential backoff with jitter: 0.5 s, 1 s, 2 s, … up to 10 s, ±20 %. */
export class Backoff {
  private attempt_ = 0;

  constructor(
    private readonly baseMs = 500,
    private readonly maxMs = 10_000,
    private readonly random: () => number = Math.random,
  ) {}

  get attempt(): number {
    return this.attempt_;
  }

  next(): number {
    const raw = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt_);
    this.attempt_++;
    const jitter = 0.8 + 0.4 * this.random();
    return Math.round(raw * jitter);
  }

  reset(): void {
    this.attempt_ = 0;
  }
}

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'paused' | 'stopped' | 'failed';

/** The subset of WebSocket that LiveConnection uses (a fake in tests). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(): void;
}

export interface LiveHandlers {
  onLines(lines: LogLine[]): void;
  onRun(state: RunState, exitCode: number | null): void;
  onCleared(): void;
  /** The newest state of an unfinished line (optional: not every view shows them). */
  onProgress?(progress: ProgressLine): void;
  onStatus(status: LiveStatus, detail: { retryInMs?: number; error?: string }): void;
}

export interface LiveDeps {
  url(afterLine: number): string;
  createSocket(url: string): SocketLike;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  now(): number;
  random?: () => number;
}

const PING_MS = 15_000;
const STALE_MS = 45_000;

/** One live tail. Single-threaded (browser event loop); not reusable after stop(). */
export class LiveConnection {
  readonly cursor: LiveCursor;
  private socket_: SocketLike | null = null;
  private status_: LiveStatus = 'stopped';
  private retryTimer_: unknown = null;
  private pingTimer_: unknown = null;
  private lastMessageAt_ = 0;
  private readonly backoff_: Backoff;

  constructor(
    startAfterLine: number,
    private readonly handlers: LiveHandlers,
    private readonly deps: LiveDeps,
  ) {
    this.cursor = new LiveCursor(startAfterLine);
    this.backoff_ = new Backoff(500, 10_000, deps.random);
  }

  get status(): LiveStatus {
    return this.status_;
  }

  start(): void {
    if (this.status_ === 'stopped' || this.status_ === 'paused' || this.status_ === 'reconnecting') this.connect();
  }

  /** Stops receiving; resume() reconnects from the cursor, so nothing is missed. */
  pause(): void {
    if (this.status_ === 'failed') return;
    this.teardown();
    this.setStatus('paused');
  }

  resume(): void {
    if (this.status_ === 'paused') {
      this.backoff_.reset();
      this.connect();
    }
  }

  stop(): void {
    this.teardown();
    this.setStatus('stopped');
  }

  /** Reconnect now (user asked, or the page became visible/online again). */
  retryNow(): void {
    if (this.status_ === 'reconnecting') this.connect();
  }

  private setStatus(s: LiveStatus, detail: { retryInMs?: number; error?: string } = {}): void {
    this.status_ = s;
    this.handlers.onStatus(s, detail);
  }

  private teardown(): void {
    if (this.retryTimer_ !== null) this.deps.clearTimeout(this.retryTimer_);
    if (this.pingTimer_ !== null) this.deps.clearTimeout(this.pingTimer_);
    this.retryTimer_ = this.pingTimer_ = null;
    const s = this.socket_;
    this.socket_ = null;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  }

  private connect(): void {
    this.teardown();
    this.setStatus('connecting');
    let socket: SocketLike;
    try {
      socket = this.deps.createSocket(this.deps.url(this.cursor.last));
    } catch (e) {
      this.scheduleRetry();
      return;
    }
    this.socket_ = socket;
    socket.onopen = () => {
      this.lastMessageAt_ = this.deps.now();
      this.setStatus('live');
      this.schedulePing();
    };
    socket.onmessage = (ev) => {
      this.lastMessageAt_ = this.deps.now();
      this.backoff_.reset();
      this.handleFrame(ev.data);
    };
    socket.onclose = () => {
      if (this.socket_ !== socket) return;
      this.socket_ = null;
      this.scheduleRetry();
    };
    socket.onerror = () => {
      /* a close event follows */
    };
  }

  private handleFrame(data: unknown): void {
    if (typeof data !== 'string') return;
    let frame: StreamFrame;
    try {
      frame = JSON.parse(data) as StreamFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'logs': {
        const fresh = this.cursor.accept(frame.logs ?? []);
        if (fresh.length) this.handlers.onLines(fresh);
        break;
      }
      case 'run':
        this.handlers.onRun(frame.state, frame.exit_code ?? null);
        break;
      case 'cleared':
        this.handlers.onCleared();
        break;
      case 'progress':
        this.handlers.onProgress?.(frame);
        break;
      case 'error':
        this.teardown();
        this.setStatus('failed', { error: frame.error?.message ?? 'stream error' });
        break;
      default:
        break;
    }
  }

  private schedulePing(): void {
    this.pingTimer_ = this.deps.setTimeout(() => {
      this.pingTimer_ = null;
      const s = this.socket_;
      if (!s) return;
      if (this.deps.now() - this.lastMessageAt_ > STALE_MS) {
        // half-open connection: nothing (not even a pong) for too long
        this.socket_ = null;
        s.onopen = s.onmessage = s.onclose = s.onerror = null;
        s.close();
        this.scheduleRetry();
        return;
      }
      try {
        s.send(JSON.stringify({ type: 'ping' }));
      } catch {
        /* close follows */
      }
      this.schedulePing();
    }, PING_MS);
  }

  private scheduleRetry(): void {
    if (this.pingTimer_ !== null) this.deps.clearTimeout(this.pingTimer_);
    this.pingTimer_ = null;
    const delay = this.backoff_.next();
    this.setStatus('reconnecting', { retryInMs: delay });
    this.retryTimer_ = this.deps.setTimeout(() => {
      this.retryTimer_ = null;
      this.connect();
    }, delay);
  }
}
