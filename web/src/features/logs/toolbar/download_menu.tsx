import { useEffect, useRef, useState } from 'react';
import { downloadUrl, type DownloadOptions } from '../../../api/client';
import type { ServerFilters } from '../../../api/types';

/** TXT / JSON / CSV of the current filters; plain text unless "escape codes" is ticked, gzip on
 * request, timestamps as shown (wall clock or elapsed). The server names the file. */
export function DownloadMenu(props: { runId: string; filters: ServerFilters; filtered: boolean; elapsed: boolean }) {
  const [open, setOpen] = useState(false);
  const [raw, setRaw] = useState(false);
  const [gzip, setGzip] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);
  const opts: DownloadOptions = { raw, gzip, time: props.elapsed ? 'elapsed' : 'utc' };
  return (
    <div className="menu" ref={ref}>
      <button className="btn" data-testid="download" aria-expanded={open} onClick={() => setOpen((m) => !m)}>
        ⤓ Download
      </button>
      {open && (
        <div className="menu-list">
          {(['txt', 'json', 'csv'] as const).map((f) => (
            <a key={f} href={downloadUrl(props.runId, f, props.filters, opts)} download data-testid={`download-${f}`} onClick={() => setOpen(false)}>
              {f.toUpperCase()}
              {props.filtered ? ' (filtered)' : ''}
              {gzip ? ' .gz' : ''}
            </a>
          ))}
          <label className="opt">
            <input type="checkbox" checked={raw} data-testid="download-raw" onChange={(e) => setRaw(e.target.checked)} /> keep escape codes
          </label>
          <label className="opt">
            <input type="checkbox" checked={gzip} data-testid="download-gzip" onChange={(e) => setGzip(e.target.checked)} /> gzip (.gz)
          </label>
        </div>
      )}
    </div>
  );
}
