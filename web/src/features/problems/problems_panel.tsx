// The run page's Problems panel (doc/problems.md), pinned above the log: how many problems, the
// first one's line, one row per event (click: jump to its line) with its detail folded. Logic in
// src/lib/problems.ts; this file fetches and renders.
import { useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import type { Problem } from '../../api/types';
import { formatCount } from '../../lib/line_format';
import { detailLines, kindLabel, occurrencesSuffix, problemsHeadline, problemsStale, problemTone, ranksSuffix, sortProblems } from '../../lib/problems';

export function ProblemsPanel(props: { runId: string; /** the run's stored line count: refetch when it moves */ total: number; onJump: (line: number) => void }) {
  const { runId, total, onJump } = props;
  const [problems, setProblems] = useState<Problem[]>([]);
  const [open, setOpen] = useState(true);
  const seen = useRef<number | null>(null);

  useEffect(() => {
    seen.current = null;
    setProblems([]);
  }, [runId]);
  useEffect(() => {
    if (!problemsStale(seen.current, total)) return;
    // At most one fetch a second while lines stream in.
    const ctl = new AbortController();
    const t = window.setTimeout(
      () => {
        seen.current = total;
        api
          .runProblems(runId, ctl.signal)
          .then((p) => setProblems(sortProblems(p)))
          .catch(() => undefined);
      },
      seen.current === null ? 0 : 1000,
    );
    return () => {
      window.clearTimeout(t);
      ctl.abort();
    };
  }, [runId, total]);
  // Stalls are raised while nothing is printed: look again now and then.
  useEffect(() => {
    const t = window.setInterval(() => {
      api
        .runProblems(runId)
        .then((p) => setProblems(sortProblems(p)))
        .catch(() => undefined);
    }, 15000);
    return () => window.clearInterval(t);
  }, [runId]);

  const head = problemsHeadline(problems);
  if (!head.count) return null;
  return (
    <div className="problems" data-testid="problems-panel">
      <div className="problems-head">
        <button className="btn small" data-testid="problems-toggle" onClick={() => setOpen(!open)} title={open ? 'Hide' : 'Show'}>
          {open ? '▾' : '▸'}
        </button>
        <b data-testid="problems-count">
          {formatCount(head.count)} problem{head.count === 1 ? '' : 's'}
        </b>
        {head.firstLine !== null && (
          <button className="link" data-testid="problems-first" onClick={() => onJump(head.firstLine as number)}>
            first at line {formatCount(head.firstLine)}
          </button>
        )}
      </div>
      {open && (
        <ul className="problems-list">
          {problems.map((p) => (
            <li key={p.signature} className={`problem tone-${problemTone(p)}`} data-testid="problem" data-kind={p.kind}>
              <button className="problem-main" data-testid="problem-jump" onClick={() => onJump(p.first_line)} title={`Go to line ${p.first_line}`}>
                <span className="problem-kind">{kindLabel(p)}</span>
                <span className="problem-title">{p.title}</span>
                {ranksSuffix(p) && <span className="problem-ranks">{ranksSuffix(p)}</span>}
                {occurrencesSuffix(p) && <span className="problem-count">{occurrencesSuffix(p)}</span>}
                <span className="problem-line">L{p.first_line}</span>
              </button>
              {(detailLines(p).length > 0 || (p.writers?.length ?? 0) > 1) && (
                <details className="problem-detail" data-testid="problem-detail">
                  <summary>details</summary>
                  {detailLines(p).length > 0 && <pre>{detailLines(p).join('\n')}</pre>}
                  {(p.writers?.length ?? 0) > 1 && (
                    <div className="problem-writers">
                      {p.writers?.map((w) => (
                        <button key={w.writer} className="chip" onClick={() => onJump(w.first_line)}>
                          {w.writer} L{w.first_line}
                        </button>
                      ))}
                    </div>
                  )}
                </details>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
