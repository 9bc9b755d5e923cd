// Commands from any view go through one place, so every result is announced the same way: a notice in
// the live region (role=status for successes, role=alert for failures) naming what was done.
import { createContext, useContext, useState, type ReactNode } from 'react';
import type { Command, CommandResult } from '../../../shared/contract/station-api.js';

export interface Actions {
  /** Runs a command; `what` names it for the notice ("Accept Office for scanner-7"). */
  run(command: Command, what: string): Promise<CommandResult>;
  /** Shows a result; a notice with the same `topic` (by default its text's subject) replaces older ones. */
  notify(ok: boolean, text: string, topic?: string): void;
}

export const ActionsContext = createContext<Actions | null>(null);

export function useActions(): Actions {
  const actions = useContext(ActionsContext);
  if (!actions) throw new Error('useActions needs an ActionsContext provider');
  return actions;
}

interface CommandButtonProps {
  command: Command;
  /** What the button shows. */
  children: ReactNode;
  /** The full name for assistive technology and the notice, e.g. "Retry download of Office for scanner-7 now". */
  label: string;
  className?: string;
}

/** A button that runs one command and is disabled while the station answers. */
export function CommandButton({ command, children, label, className }: CommandButtonProps) {
  const { run } = useActions();
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className={className ?? 'btn'}
      aria-label={label}
      disabled={busy}
      aria-busy={busy}
      onClick={async () => {
        setBusy(true);
        try {
          await run(command, label);
        } finally {
          setBusy(false);
        }
      }}
    >
      {children}
    </button>
  );
}
