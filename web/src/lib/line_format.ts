// How one log line is shown: local-time timestamp, message split into ANSI-styled segments with
// the search matches marked. Pure functions; LogRow only maps segments to elements.
import { parseAnsi, type AnsiSpan, type AnsiStyle } from './ansi';
import { re2ToJs } from './re2';

const pad2 = (n: number) => String(n).padStart(2, '0');
const pad3 = (n: number) => String(n).padStart(3, '0');

/** Microsecond ISO timestamps parse fine with Date (extra digits are ignored by V8), but we
 * normalise to milliseconds so every engine agrees. */
export function parseTimestamp(ts: string): Date {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(ts);
  if (!m) return new Date(ts);
  const frac = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '';
  return new Date(m[1]! + frac + (m[3] ?? 'Z'));
}

/** `HH:MM:SS` in local time, or `YYYY-MM-DD HH:MM:SS.mmm` with fullDate. */
export function formatTimestamp(ts: string, fullDate: boolean): string {
  const d = parseTimestamp(ts);
  if (Number.isNaN(d.getTime())) return ts;
  const hms = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  if (!fullDate) return hms;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${hms}.${pad3(d.getMilliseconds())}`;
}

/** Time since the run's first line: `+M:SS.mmm`, `+H:MM:SS.mmm`, or `-…` before it. */
export function formatElapsed(ts: string, origin: string, withMs = true): string {
  const ms = parseTimestamp(ts).getTime() - parseTimestamp(origin).getTime();
  if (!Number.isFinite(ms)) return ts;
  const sign = ms < 0 ? '-' : '+';
  const a = Math.abs(ms);
  const h = Math.floor(a / 3_600_000);
  const m = Math.floor(a / 60_000) % 60;
  const sec = Math.floor(a / 1000) % 60;
  const frac = withMs ? `.${pad3(a % 1000)}` : '';
  return h > 0 ? `${sign}${h}:${pad2(m)}:${pad2(sec)}${frac}` : `${sign}${m}:${pad2(sec)}${frac}`;
}

/** The browser's time zone as shown next to wall-clock times: `Europe/Berlin (UTC+01:00)`. */
export function zoneLabel(at: Date = new Date(), zone?: string): string {
  const name = zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local';
  const off = -at.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${name} (UTC${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)})`;
}

export type Range = readonly [number, number];
export type Matcher = (text: string) => Range[];

export interface MatcherResult {
  matcher: Matcher | null;
  error: string | null;
}

/** A matcher for highlighting: case-insensitive substring, or an RE2 regex translated by
 * lib/re2.ts (patterns RE2 rejects are rejected here too). Runs over the visible text. */
export function buildMatcher(search: string, regex: boolean): MatcherResult {
  if (!search) return { matcher: null, error: null };
  if (!regex) {
    const needle = search.toLowerCase();
    return {
      matcher: (text) => {
        const hay = text.toLowerCase();
        if (hay.length !== text.length) return []; // rare case-folding length change: no highlight
        const out: Range[] = [];
        let i = hay.indexOf(needle);
        while (i >= 0) {
          out.push([i, i + needle.length]);
          i = hay.indexOf(needle, i + needle.length);
        }
        return out;
      },
      error: null,
    };
  }
  const { re, error } = re2ToJs(search);
  if (!re) return { matcher: null, error };
  return {
    matcher: (text) => {
      const out: Range[] = [];
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      let guard = 0;
      while ((m = re.exec(text)) !== null && guard++ < 10000) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        out.push([m.index, m.index + m[0].length]);
      }
      return out;
    },
    error: null,
  };
}

export interface Segment {
  text: string;
  style: AnsiStyle;
  match: boolean;
}

/** Splits ANSI spans further at match boundaries (ranges are over the visible text). */
export function highlight(spans: AnsiSpan[], ranges: Range[]): Segment[] {
  if (!ranges.length) return spans.map((s) => ({ text: s.text, style: s.style, match: false }));
  const out: Segment[] = [];
  let pos = 0; // offset of the current span in the visible text
  let r = 0;
  for (const span of spans) {
    const end = pos + span.text.length;
    let cur = pos;
    while (cur < end) {
      while (r < ranges.length && ranges[r]![1] <= cur) r++;
      const range = ranges[r];
      if (!range || range[0] >= end) {
        out.push({ text: span.text.slice(cur - pos), style: span.style, match: false });
        cur = end;
      } else if (range[0] > cur) {
        out.push({ text: span.text.slice(cur - pos, range[0] - pos), style: span.style, match: false });
        cur = range[0];
      } else {
        const stop = Math.min(end, range[1]);
        out.push({ text: span.text.slice(cur - pos, stop - pos), style: span.style, match: true });
        cur = stop;
      }
    }
    pos = end;
  }
  return out;
}

export function messageSegments(message: string, matcher: Matcher | null): Segment[] {
  const spans = parseAnsi(message);
  if (!matcher) return highlight(spans, []);
  const plain = spans.map((s) => s.text).join('');
  return highlight(spans, matcher(plain));
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad2(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${pad2(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatDateTime(ts: string | null): string {
  if (!ts) return '—';
  return formatTimestamp(ts, true).slice(0, 19);
}

/** The line-number gutter's width in `ch`: as many digits as the largest line number (at least
 * 4) plus one for spacing, so a 7-digit line number keeps its first digit. */
export function gutterWidth(lastLine: number): string {
  const digits = Math.max(4, String(Math.max(0, Math.floor(lastLine))).length);
  return `${digits + 1}ch`;
}
