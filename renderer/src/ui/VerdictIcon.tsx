// The verdict's icon: a shape per verdict (a tick, a cross, a circling arrow, a clock, an eject mark), so
// the verdict reads without colour; the words beside it say the same for screen readers (the icon is
// hidden from them).
import type { DeviceVerdict } from '../../../shared/contract/station-api.js';

const PATHS: Record<DeviceVerdict['kind'], string> = {
  done: 'M5 12.5l4.2 4.2L19 7',
  failed: 'M7 7l10 10M17 7L7 17',
  working: 'M19 12a7 7 0 1 1-2.05-4.95M19 4v4h-4',
  waiting: 'M12 7v5l3.5 2',
  undocked: 'M12 5l6 7H6zM6 17h12',
};

export function VerdictIcon({ kind, className = '' }: { kind: DeviceVerdict['kind']; className?: string }) {
  return (
    <svg className={`verdict-icon ${className}`} viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      {kind === 'waiting' ? <circle cx="12" cy="12" r="8" fill="none" stroke="currentColor" strokeWidth="2.2" /> : null}
      <path d={PATHS[kind]} fill={kind === 'undocked' ? 'currentColor' : 'none'} stroke="currentColor" strokeWidth="2.6" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}
