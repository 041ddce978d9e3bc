import { memo, useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import type { Histogram as HistogramData, ServerFilters } from '../../api/types';
import { LEVELS } from '../../api/types';
import { barSegments, dragWindow, hasErrors, histogramDelay } from '../../lib/histogram';
import { formatCount, formatTimestamp } from '../../lib/line_format';
import { filtersKey } from '../../lib/view_state';

/** Lines over time, stacked by level on a log scale, error buckets marked; a click jumps to the
 * bucket's first line, a drag selects a time window. */
export const Histogram = memo(function Histogram(props: {
  runId: string;
  filters: ServerFilters;
  /** Changes when the data may have changed (live lines, clear); refetched at most every 3 s. */
  token: number;
  onJump: (line: number) => void;
  onWindow: (w: { since: string; until: string }) => void;
}) {
  const key = `${props.runId}|${filtersKey(props.filters)}`;
  const [data, setData] = useState<{ key: string; h: HistogramData } | null>(null);
  const [failed, setFailed] = useState(false);
  const lastFetch = useRef<{ key: string; at: number } | null>(null);
  const filtersRef = useRef(props.filters);
  filtersRef.current = props.filters;

  const inflight = useRef<AbortController | null>(null);
  useEffect(() => {
    const keyChanged = lastFetch.current?.key !== key;
    // A new filter drops the old one's request; live refreshes never cancel a fetch in flight
    // (that left the chart blank for seconds when lines arrived right after opening).
    if (keyChanged) inflight.current?.abort();
    const wait = histogramDelay(keyChanged, lastFetch.current?.at ?? null, Date.now());
    const id = window.setTimeout(() => {
      const ctl = new AbortController();
      inflight.current = ctl;
      lastFetch.current = { key, at: Date.now() };
      api
        .histogram(props.runId, filtersRef.current, 120, ctl.signal)
        .then((h) => {
          if (inflight.current !== ctl) return;
          setData({ key, h });
          setFailed(false);
        })
        .catch((e: Error) => e.name !== 'AbortError' && setFailed(true));
    }, wait);
    return () => window.clearTimeout(id);
  }, [props.runId, key, props.token]);
  useEffect(() => () => inflight.current?.abort(), []);

  const [drag, setDrag] = useState<{ from: number; to: number } | null>(null);
  const current = data && data.key === key ? data.h : null; // never the previous filter's bars
  if (failed && !current) return null; // an old server without the endpoint: no histogram
  const buckets = current?.buckets ?? [];
  const sums = buckets.map((b) => LEVELS.reduce((n, l) => n + (b.counts[l] ?? 0), 0));
  const max = Math.max(1, ...sums);
  const empty = sums.every((n) => n === 0);
  const inDrag = (i: number) => !!drag && i >= Math.min(drag.from, drag.to) && i <= Math.max(drag.from, drag.to);
  const finish = () => {
    if (!drag) return;
    const d = drag;
    setDrag(null);
    if (d.from === d.to) {
      const b = buckets[d.from];
      if (b && b.first_line !== null) props.onJump(b.first_line);
      return;
    }
    const w = dragWindow(buckets, d.from, d.to);
    if (w) props.onWindow(w);
  };
  return (
    <div
      className="histogram"
      data-testid="histogram"
      data-ready={current ? '1' : '0'}
      onMouseLeave={() => setDrag(null)}
      onMouseUp={finish}
    >
      {empty && <span className="hint">{current ? 'No lines to chart' : ' '}</span>}
      {buckets.map((b, i) => {
        const title =
          `${formatTimestamp(b.start, true)} – ${formatTimestamp(b.end, false)}\n${formatCount(sums[i]!)} lines` +
          LEVELS.filter((l) => b.counts[l]).map((l) => `\n${l}: ${formatCount(b.counts[l])}`).join('') +
          '\nclick: jump · drag: select a time window';
        return (
          <div
            key={i}
            className={`bar${b.first_line === null ? ' empty' : ''}${inDrag(i) ? ' sel' : ''}`}
            title={title}
            data-index={i}
            data-first-line={b.first_line ?? undefined}
            data-errors={hasErrors(b.counts) ? '1' : undefined}
            onMouseDown={(e) => {
              if (e.button !== 0) return;
              e.preventDefault();
              setDrag({ from: i, to: i });
            }}
            onMouseEnter={() => drag && setDrag({ ...drag, to: i })}
          >
            {barSegments(b.counts, max).map((s) => (
              <div key={s.level} className={`seg ${s.level}`} style={{ height: `${s.height}%` }} />
            ))}
            {hasErrors(b.counts) && <div className="err-mark" />}
          </div>
        );
      })}
    </div>
  );
});
