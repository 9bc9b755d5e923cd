// Light or dark: by default the system's preference (prefers-color-scheme, handled in CSS); a technician
// can pin either, remembered in localStorage. The choice is a data-theme attribute on <html> that the
// stylesheet reads, so no style is ever set from script.
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'dockhand.theme';

export function storedTheme(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system'; // storage can be unavailable (privacy settings); the system preference still applies
  }
}

export function applyTheme(choice: ThemeChoice): void {
  if (choice === 'system') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', choice);
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // not remembered; it still applies to this page
  }
}
