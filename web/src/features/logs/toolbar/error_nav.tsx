export function ErrorNav(props: { enabled: boolean; note: string | null; gotoError: (first: boolean) => void }) {
  return (
    <div className="group">
      <button className="btn" data-testid="first-error" disabled={!props.enabled} onClick={() => props.gotoError(true)} title="Jump to the first error">
        ⚠ First error
      </button>
      <button className="btn" data-testid="next-error" disabled={!props.enabled} onClick={() => props.gotoError(false)} title="Jump to the next error">
        Next ↓
      </button>
      {props.note && <span className="sub">{props.note}</span>}
    </div>
  );
}
