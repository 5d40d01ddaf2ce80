// The Quick Access window's keys: Enter copies the password, Ctrl+U the
// username, Ctrl+T the one-time code; Esc hides the window.

export type QuickAction = 'copy-password' | 'copy-username' | 'copy-totp' | 'hide' | 'up' | 'down';

export function quickAction(e: KeyboardEvent): QuickAction | null {
  const ctrl = e.ctrlKey || e.metaKey;
  if (e.altKey) return null;
  if (!ctrl && !e.shiftKey) {
    switch (e.key) {
      case 'Enter':
        return 'copy-password';
      case 'Escape':
        return 'hide';
      case 'ArrowUp':
        return 'up';
      case 'ArrowDown':
        return 'down';
      default:
        return null;
    }
  }
  if (ctrl && !e.shiftKey) {
    switch (e.key.toLowerCase()) {
      case 'u':
        return 'copy-username';
      case 't':
        return 'copy-totp';
      case 'p':
        return 'up';
      case 'n':
        return 'down';
      default:
        return null;
    }
  }
  return null;
}
