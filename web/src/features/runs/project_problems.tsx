import { useState } from 'react';
import { api } from '../../api/client';
import { PROBLEM_KINDS } from '../../api/types';
import { Link } from '../../components/router';
import { kindLabel } from '../../lib/problems';
import { hitsByRun, hitsHeadline, PROBLEM_WINDOWS, type ProblemWindow, type RunHit } from '../../lib/project_problems';
import { paths } from '../../lib/router';

/** The project page's answer to "which runs hit CUDA OOM this week". */
export function ProjectProblems({ project }: { project: string }) {
  const [kind, setKind] = useState<string>('cuda_oom');
  const [window, setWindow] = useState<ProblemWindow>('7d');
  const [hits, setHits] = useState<RunHit[] | null>(null);
  const [asked, setAsked] = useState<{ kind: string; window: ProblemWindow } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const find = async () => {
    setError(null);
    try {
      const r = await api.projectProblems(project, kind, window);
      setHits(hitsByRun(r.problems));
      setAsked({ kind, window });
    } catch (e: unknown) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const windowLabel = (w: ProblemWindow) => PROBLEM_WINDOWS.find((x) => x.value === w)?.label ?? w;
  return (
    <section className="project-problems" data-testid="project-problems">
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          void find();
        }}
      >
        <span className="label">Which runs hit</span>
        <select className="text" value={kind} data-testid="project-problems-kind" onChange={(e) => setKind(e.target.value)}>
          {PROBLEM_KINDS.filter((k) => k !== 'custom').map((k) => (
            <option key={k} value={k}>
              {kindLabel({ kind: k, rule: k })}
            </option>
          ))}
        </select>
        <select className="text" value={window} data-testid="project-problems-window" onChange={(e) => setWindow(e.target.value as ProblemWindow)}>
          {PROBLEM_WINDOWS.map((w) => (
            <option key={w.value} value={w.value}>
              {w.label}
            </option>
          ))}
        </select>
        <button className="btn" data-testid="project-problems-go">
          Find
        </button>
      </form>
      {error && (
        <div className="sub note" role="alert">
          {error}
        </div>
      )}
      {hits && asked && (
        <div data-testid="project-problems-result">
          <div className="sub" data-testid="project-problems-headline">
            {hitsHeadline(hits.length, kindLabel({ kind: asked.kind, rule: asked.kind }), windowLabel(asked.window))}
          </div>
          <ul className="problem-hits">
            {hits.map((h) => (
              <li key={h.run.id} data-testid="project-problems-run" data-run-id={h.run.id}>
                <Link href={`${paths.run(h.run.id)}#L${h.firstLine}`}>{h.run.name}</Link> <span className="sub">{h.run.state}</span>{' '}
                <span className="problem-title">{h.problems[0]?.title}</span>
                {h.problems.length > 1 && <span className="sub"> (+{h.problems.length - 1} more)</span>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
