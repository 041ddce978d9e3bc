import { useState } from 'react';

export function GotoBox(props: { onGo: (line: number) => void; note: string | null }) {
  const [goto, setGoto] = useState('');
  return (
    <form
      className="group goto"
      onSubmit={(e) => {
        e.preventDefault();
        const n = parseInt(goto.replace(/[,_\s]/g, ''), 10);
        if (Number.isSafeInteger(n) && n > 0) props.onGo(n);
      }}
    >
      <input className="text" placeholder="Go to line" value={goto} data-testid="goto-input" onChange={(e) => setGoto(e.target.value)} />
      {props.note && (
        <span className="sub note" role="status" data-testid="goto-note">
          {props.note}
        </span>
      )}
    </form>
  );
}
