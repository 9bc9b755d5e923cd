// The live regions for command results: polite for what went well, assertive (role=alert) for failures.
// Both regions exist from the start (screen readers only announce changes to regions already present).
export interface Notice {
  id: number;
  ok: boolean;
  text: string;
  /** What the notice is about; a newer notice on the same topic replaces it. */
  topic: string;
}

export function Notices({ notices, onDismiss }: { notices: Notice[]; onDismiss: (id: number) => void }) {
  const good = notices.filter((n) => n.ok);
  const bad = notices.filter((n) => !n.ok);
  const list = (items: Notice[]) => items.map((n) => (
    <li key={n.id} className={n.ok ? 'notice ok' : 'notice bad'}>
      <span>{n.text}</span>
      <button type="button" className="btn small quiet" aria-label={`Dismiss: ${n.text}`} onClick={() => onDismiss(n.id)}>×</button>
    </li>
  ));
  return (
    <div className="notices">
      <ul role="status" aria-live="polite" aria-label="Results">{list(good)}</ul>
      <ul role="alert" aria-label="Problems">{list(bad)}</ul>
    </div>
  );
}
