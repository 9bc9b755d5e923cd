// A short editable list (serial ports, USB filters): each entry with a remove button, and an input with an
// Add button. Enter in the input adds too, without submitting the surrounding form.
import { useId, useState } from 'react';

interface ListEditorProps {
  label: string;
  items: string[];
  onChange: (items: string[]) => void;
  /** Words for the remove button, e.g. "Forget". */
  removeWord: string;
  placeholder: string;
  /** Why a new entry cannot be added, or '' when it can. */
  check?: (text: string) => string;
  error?: string | undefined;
  hint: string;
}

export function ListEditor({ label, items, onChange, removeWord, placeholder, check, error, hint }: ListEditorProps) {
  const id = useId();
  const [text, setText] = useState('');
  const [problem, setProblem] = useState('');
  const add = () => {
    const value = text.trim();
    if (!value) return setProblem(`Type a value to add to ${label.toLowerCase()}.`);
    if (items.includes(value)) return setProblem(`${value} is already in the list.`);
    const why = check?.(value) ?? '';
    if (why) return setProblem(why);
    onChange([...items, value]);
    setText('');
    setProblem('');
  };
  const shown = problem || error || '';
  return (
    <fieldset className="list-editor">
      <legend>{label}</legend>
      <p className="hint" id={`${id}-hint`}>{hint}</p>
      {items.length === 0 ? <p className="empty small">None.</p> : (
        <ul aria-label={label}>
          {items.map((item) => (
            <li key={item}>
              <code>{item}</code>
              <button type="button" className="btn small quiet" aria-label={`${removeWord} ${item}`} onClick={() => onChange(items.filter((x) => x !== item))}>
                {removeWord}
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="add-row">
        <label className="visually-hidden" htmlFor={`${id}-new`}>New entry for {label.toLowerCase()}</label>
        <input
          id={`${id}-new`}
          value={text}
          placeholder={placeholder}
          aria-describedby={`${id}-hint${shown ? ` ${id}-err` : ''}`}
          aria-invalid={shown ? true : undefined}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }}
        />
        <button type="button" className="btn" onClick={add}>Add</button>
      </div>
      {shown ? <p className="field-error" id={`${id}-err`} role="alert">{shown}</p> : null}
    </fieldset>
  );
}
