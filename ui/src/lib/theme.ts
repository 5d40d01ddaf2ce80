// Light and dark follow the system (prefers-color-scheme in app.css) unless
// the user picked one in settings.

import type { Theme } from '../api';

export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  if (theme === 'system') {
    delete root.dataset['theme'];
  } else {
    root.dataset['theme'] = theme;
  }
}
