import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { Retention } from '../../api/types';
import { formatDateTime } from '../../lib/line_format';
import { describeRetention } from '../../lib/retention';

/** The project's retention policy as it applies (its own limits and the server defaults). */
export function RetentionPanel({ project }: { project: string }) {
  const [policy, setPolicy] = useState<Retention | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    setPolicy(null);
    api
      .getRetention(project, ctl.signal)
      .then((r) => {
        setPolicy(r);
        setError(null);
      })
      .catch((e: Error) => {
        if (!ctl.signal.aborted) setError(e.message);
      });
    return () => ctl.abort();
  }, [project]);
  if (error) return null; // an unknown project says so elsewhere on the page
  if (!policy) return null;
  const rules = describeRetention(policy);
  return (
    <div className="retention" data-testid="retention-policy">
      <b>Retention</b>{' '}
      {rules.length === 0 ? (
        <span data-testid="retention-keep-all">: all logs are kept (no retention policy).</span>
      ) : (
        <>
          {policy.updated_at && <span className="from">(set {formatDateTime(policy.updated_at)})</span>}
          <ul>
            {rules.map((r) => (
              <li key={r.key} data-testid={`retention-${r.key}`}>
                {r.text} <span className="from">{r.from === 'project' ? '· this project' : '· server default'}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
