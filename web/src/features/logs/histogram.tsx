import { useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import type { Histogram as HistogramData, ServerFilters } from '../../api/types';
import { LEVELS } from '../../api/types';
import { formatCount, formatTimestamp } from '../../lib/line_format';
import { filtersKey } from '../../lib/view_state';

/** Lines over time, stacked by level; a click jumps to the bucket's first line. */
export function Histogram(props: {
  runId: string;
  filters: ServerFilters;
  /** Changes when the data may have changed (live lines, clear); refetched at most every 3 s. */
  token: number;
  onJump: (line: number) => void;
}) {
  const [data, setData] = useState<HistogramData | null>(null);
  const [failed, setFailed] = useState(false);
  const last = useRef(0);
  const timer = useRef<number | null>(null);
  const key = filtersKey(props.filters);

  useEffect(() => {
    let cancelled = false;
    const load = () => {
      last.current = Date.now();
      api
        .histogram(props.runId, props.filters, 120)
        .then((h) => {
          if (!cancelled) {
            setData(h);
            setFailed(false);
          }
        })
        .catch(() => !cancelled && setFailed(true));
    };
    const wait = 3000 - (Date.now() - last.current);
    if (wait <= 0) load();
    else timer.current = window.setTimeout(load, wait);
    return () => {
      cancelled = true;
      if (timer.current !== null) window.clearTimeout(timer.current);
    };
  }, [props.runId, key, props.token]);

  if (failed && !data) return null; // an old server without the endpoint: no histogram
  const buckets = data?.buckets ?? [];
  const sums = buckets.map((b) => LEVELS.reduce((n, l) => n + (b.counts[l] ?? 0), 0));
  const max = Math.max(1, ...sums);
  const empty = sums.every((n) => n === 0);
  return (
    <div className="histogram" data-testid="histogram">
      {empty && <span className="hint">{data ? 'No lines to chart' : ' '}</span>}
      {buckets.map((b, i) => {
        const total = LEVELS.reduce((n, l) => n + (b.counts[l] ?? 0), 0);
        const title =
          `${formatTimestamp(b.start, true)} – ${formatTimestamp(b.end, false)}\n${formatCount(total)} lines` +
          LEVELS.filter((l) => b.counts[l]).map((l) => `\n${l}: ${formatCount(b.counts[l])}`).join('');
        return (
          <div
            key={i}
            className={`bar${b.first_line === null ? ' empty' : ''}`}
            title={title}
            data-first-line={b.first_line ?? undefined}
            onClick={() => b.first_line !== null && props.onJump(b.first_line)}
          >
            {LEVELS.map((l) =>
              b.counts[l] ? (
                <div key={l} className={`seg ${l}`} style={{ height: `${Math.max(1.5, (b.counts[l] / max) * 100)}%` }} />
              ) : null,
            )}
          </div>
        );
      })}
    </div>
  );
}
