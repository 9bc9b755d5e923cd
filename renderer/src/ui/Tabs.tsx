// The navigation between views, as an ARIA tab list: Tab moves into the list and on to the open panel;
// Left/Right (and Home/End) move between tabs and open them (roving tabindex, automatic activation).
import { useRef, type KeyboardEvent } from 'react';

export interface TabItem {
  id: string;
  label: string;
  /** A short count shown after the label, e.g. waiting tasks. */
  badge?: string;
}

export const tabId = (id: string) => `tab-${id}`;
export const panelId = (id: string) => `panel-${id}`;

export function Tabs({ items, selected, onSelect }: { items: TabItem[]; selected: string; onSelect: (id: string) => void }) {
  const refs = useRef(new Map<string, HTMLButtonElement>());
  const move = (e: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const last = items.length - 1;
    const to = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const item = items[to]!;
    onSelect(item.id);
    refs.current.get(item.id)?.focus();
  };
  return (
    <div role="tablist" aria-label="Station views" className="tabs">
      {items.map((item, i) => (
        <button
          key={item.id}
          ref={(el) => {
            if (el) refs.current.set(item.id, el);
            else refs.current.delete(item.id);
          }}
          type="button"
          role="tab"
          id={tabId(item.id)}
          aria-controls={panelId(item.id)}
          aria-selected={item.id === selected}
          tabIndex={item.id === selected ? 0 : -1}
          className="tab"
          onClick={() => onSelect(item.id)}
          onKeyDown={(e) => move(e, i)}
        >
          {item.label}
          {item.badge ? <>{' '}<span className="tab-badge">{item.badge}</span></> : null}
        </button>
      ))}
    </div>
  );
}
