// Every keyboard shortcut of the main window, in one table: the help overlay
// lists it, and `matchShortcut` turns a key press into the action it names.
// "Ctrl" means Ctrl on Linux and Windows and also ⌘ on macOS.

export type ShortcutAction =
  | 'focus-search'
  | 'new-item'
  | 'edit-item'
  | 'copy-password'
  | 'copy-username'
  | 'copy-totp'
  | 'reveal-password'
  | 'open-url'
  | 'toggle-favourite'
  | 'history'
  | 'move-item'
  | 'trash-item'
  | 'lock'
  | 'generator'
  | 'save'
  | 'close'
  | 'help'
  | 'go-items'
  | 'go-favourites'
  | 'go-health'
  | 'go-trash'
  | 'go-audit'
  | 'go-settings';

export type ShortcutGroup = 'Items' | 'Selected item' | 'Editor' | 'Navigation' | 'Vault';

export interface Shortcut {
  action: ShortcutAction;
  /** As shown and as matched: modifiers joined with '+', then the key. */
  keys: string;
  description: string;
  group: ShortcutGroup;
  /** Whether it also fires while the focus is in a text field. */
  inTextField: boolean;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'focus-search', keys: 'Ctrl+F', description: 'Search', group: 'Items', inTextField: true },
  { action: 'new-item', keys: 'Ctrl+N', description: 'New item', group: 'Items', inTextField: true },
  { action: 'edit-item', keys: 'Ctrl+E', description: 'Edit the selected item', group: 'Selected item', inTextField: true },
  { action: 'copy-password', keys: 'Ctrl+C', description: 'Copy password (when no text is selected)', group: 'Selected item', inTextField: true },
  { action: 'copy-username', keys: 'Ctrl+B', description: 'Copy username', group: 'Selected item', inTextField: true },
  { action: 'copy-totp', keys: 'Ctrl+T', description: 'Copy one-time code', group: 'Selected item', inTextField: true },
  { action: 'reveal-password', keys: 'Ctrl+R', description: 'Show or hide the password', group: 'Selected item', inTextField: true },
  { action: 'open-url', keys: 'Ctrl+O', description: 'Open the website', group: 'Selected item', inTextField: true },
  { action: 'toggle-favourite', keys: 'Ctrl+D', description: 'Add to or remove from favourites', group: 'Selected item', inTextField: true },
  { action: 'history', keys: 'Ctrl+H', description: 'Earlier versions', group: 'Selected item', inTextField: true },
  { action: 'move-item', keys: 'Ctrl+M', description: 'Move to a folder…', group: 'Selected item', inTextField: true },
  { action: 'trash-item', keys: 'Delete', description: 'Move to the trash', group: 'Selected item', inTextField: false },
  { action: 'save', keys: 'Ctrl+S', description: 'Save', group: 'Editor', inTextField: true },
  { action: 'close', keys: 'Escape', description: 'Cancel, close', group: 'Editor', inTextField: true },
  { action: 'generator', keys: 'Ctrl+G', description: 'Password generator', group: 'Editor', inTextField: true },
  { action: 'go-items', keys: 'Ctrl+1', description: 'All items', group: 'Navigation', inTextField: true },
  { action: 'go-favourites', keys: 'Ctrl+2', description: 'Favourites', group: 'Navigation', inTextField: true },
  { action: 'go-health', keys: 'Ctrl+3', description: 'Password health', group: 'Navigation', inTextField: true },
  { action: 'go-trash', keys: 'Ctrl+4', description: 'Trash', group: 'Navigation', inTextField: true },
  { action: 'go-audit', keys: 'Ctrl+5', description: 'Audit log', group: 'Navigation', inTextField: true },
  { action: 'go-settings', keys: 'Ctrl+,', description: 'Settings', group: 'Navigation', inTextField: true },
  { action: 'lock', keys: 'Ctrl+L', description: 'Lock the vault', group: 'Vault', inTextField: true },
  { action: 'help', keys: '?', description: 'This list of shortcuts', group: 'Vault', inTextField: false },
];

interface KeyCombo {
  ctrl: boolean;
  shift: boolean;
  alt: boolean;
  key: string;
}

function parseKeys(keys: string): KeyCombo {
  const parts = keys.split('+');
  // "Ctrl++" would split oddly; no shortcut uses '+' as its key.
  const key = parts[parts.length - 1] ?? '';
  const mods = parts.slice(0, -1);
  return { ctrl: mods.includes('Ctrl'), shift: mods.includes('Shift'), alt: mods.includes('Alt'), key: key.toLowerCase() };
}

const COMBOS = SHORTCUTS.map((s) => ({ shortcut: s, combo: parseKeys(s.keys) }));

/** Whether an element takes typed text (so plain keys belong to it). */
export function isTextField(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable) return true;
  if (el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  if (el instanceof HTMLInputElement) {
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(el.type);
  }
  return false;
}

/** Whether the user has selected text that Ctrl+C should copy natively. */
export function hasTextSelection(target: EventTarget | null): boolean {
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) {
    try {
      const { selectionStart, selectionEnd } = target;
      if (selectionStart !== null && selectionEnd !== null && selectionEnd > selectionStart) return true;
    } catch {
      // Inputs without a selection API (e.g. type=number) have none.
    }
  }
  const sel = typeof window.getSelection === 'function' ? window.getSelection() : null;
  return sel !== null && !sel.isCollapsed && sel.toString() !== '';
}

/** The action a key press stands for, or null when it is not a shortcut here. */
export function matchShortcut(e: KeyboardEvent): ShortcutAction | null {
  const ctrl = e.ctrlKey || e.metaKey;
  const inText = isTextField(e.target);
  const key = e.key.toLowerCase();
  for (const { shortcut, combo } of COMBOS) {
    if (combo.key !== key) continue;
    if (combo.ctrl !== ctrl || combo.alt !== e.altKey) continue;
    // '?' is typed with Shift on most layouts: match the character itself.
    if (combo.key !== '?' && combo.shift !== e.shiftKey) continue;
    if (inText && !shortcut.inTextField) continue;
    if (shortcut.action === 'copy-password' && hasTextSelection(e.target)) continue;
    return shortcut.action;
  }
  return null;
}

/** A key press as a Tauri accelerator string ("Ctrl+Shift+Space"), or null for a bare modifier. */
export function acceleratorFromEvent(e: KeyboardEvent): string | null {
  const named: Record<string, string> = { ' ': 'Space', Spacebar: 'Space', Escape: 'Escape', Enter: 'Enter', Tab: 'Tab' };
  if (['Control', 'Shift', 'Alt', 'Meta', 'OS'].includes(e.key)) return null;
  const parts: string[] = [];
  if (e.ctrlKey) parts.push('Ctrl');
  if (e.altKey) parts.push('Alt');
  if (e.shiftKey) parts.push('Shift');
  if (e.metaKey) parts.push('Super');
  if (parts.length === 0) return null;
  const key = named[e.key] ?? (e.key.length === 1 ? e.key.toUpperCase() : e.key);
  parts.push(key);
  return parts.join('+');
}
