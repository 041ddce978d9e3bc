// The project page's Alerts panel (doc/alerts.md): the project's webhooks with their delivery
// log (status, last error, the latest attempts), add and delete. Admin only (webhook URLs are
// secrets). Logic in src/lib/webhooks.ts.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { Webhook } from '../../api/types';
import { formatDateTime } from '../../lib/line_format';
import { deliveryStatus, newWebhook, triggers } from '../../lib/webhooks';

export function WebhooksPanel({ project }: { project: string }) {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [open, setOpen] = useState(false);
  const [url, setUrl] = useState('');
  const [format, setFormat] = useState<'json' | 'slack'>('slack');
  const [kinds, setKinds] = useState('cuda_oom, nccl_timeout, nccl_error, killed');
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api
      .listWebhooks(project)
      .then(setHooks)
      .catch(() => setHooks([]));
  }, [project]);
  useEffect(() => {
    load();
    if (!open) return;
    const t = window.setInterval(load, 3000);
    return () => window.clearInterval(t);
  }, [load, open]);
  if (hooks === null) return null;

  const add = async () => {
    const made = newWebhook(url, format, kinds, true, true);
    if ('error' in made) {
      setError(made.error);
      return;
    }
    try {
      await api.addWebhook(project, made.hook);
      setUrl('');
      setError(null);
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div className="alerts" data-testid="webhooks-panel">
      <button className="btn small" data-testid="webhooks-toggle" onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'} Alerts · {hooks.length} webhook{hooks.length === 1 ? '' : 's'}
      </button>
      {open && (
        <div className="alerts-body">
          {hooks.map((h) => {
            const st = deliveryStatus(h);
            return (
              <div key={h.id} className="webhook" data-testid="webhook" data-webhook-id={h.id}>
                <div className="webhook-head">
                  <span className="mono webhook-url" title={h.url}>
                    {h.url}
                  </span>
                  <span className="sub">{h.format}</span>
                  <span className="sub">{triggers(h)}</span>
                  <span className={`webhook-status tone-${st.tone}`} data-testid="webhook-status">
                    {st.text}
                  </span>
                  <button
                    className="btn small danger"
                    onClick={async () => {
                      await api.deleteWebhook(project, h.id);
                      load();
                    }}
                  >
                    Delete
                  </button>
                </div>
                {h.deliveries.recent.length > 0 && (
                  <details>
                    <summary>delivery log</summary>
                    <table className="list compact" data-testid="webhook-log">
                      <tbody>
                        {h.deliveries.recent.map((r) => (
                          <tr key={r.id}>
                            <td>{formatDateTime(r.at)}</td>
                            <td>{r.event}</td>
                            <td className="mono">{r.run_id.slice(0, 8)}</td>
                            <td>{r.state === 'gave_up' ? 'gave up' : r.state}</td>
                            <td>
                              {r.attempt} attempt{r.attempt === 1 ? '' : 's'}
                            </td>
                            <td>{r.status || '—'}</td>
                            <td className="sub">{r.error}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </details>
                )}
              </div>
            );
          })}
          <div className="webhook-add">
            <input className="text" placeholder="https://hooks.slack.com/services/…" value={url} data-testid="webhook-url" onChange={(e) => setUrl(e.target.value)} />
            <select className="text" value={format} onChange={(e) => setFormat(e.target.value as 'json' | 'slack')}>
              <option value="slack">Slack</option>
              <option value="json">JSON</option>
            </select>
            <input className="text" title="problem kinds (comma-separated, * = any)" value={kinds} data-testid="webhook-kinds" onChange={(e) => setKinds(e.target.value)} />
            <button className="btn" data-testid="webhook-add" onClick={() => void add()}>
              Add webhook
            </button>
            {error && (
              <span className="err" data-testid="webhook-error">
                {error}
              </span>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
