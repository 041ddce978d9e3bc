import { useNow } from '../../../components/common';
import type { LogViewSnapshot } from '../log_view';

/** The live tail's state, in the toolbar (never over the log's text). */
export function ConnPill({ snap, retry }: { snap: LogViewSnapshot; retry: () => void }) {
  const now = useNow(250, snap.live === 'reconnecting');
  if (snap.live === 'stopped') return null;
  const text: Record<string, string> = {
    live: snap.runState && snap.runState !== 'running' ? `Live · run ${snap.runState}` : 'Live',
    connecting: 'Connecting…',
    reconnecting: `Connection lost · retrying${snap.retryAt && snap.retryAt > now + 500 ? ` in ${Math.ceil((snap.retryAt - now) / 1000)}s` : ''}…`,
    paused: 'Paused',
    failed: `Stream error${snap.liveError ? `: ${snap.liveError}` : ''}`,
  };
  return (
    <span className={`conn conn-pill ${snap.live}`} data-testid="conn-state" data-state={snap.live} title={snap.liveError ?? undefined}>
      {text[snap.live]}
      {snap.live === 'reconnecting' && (
        <button className="btn small" onClick={retry}>
          Retry now
        </button>
      )}
    </span>
  );
}
