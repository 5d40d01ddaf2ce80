import { describe, expect, it } from 'vitest';
import { fromDateInput, formatBytes, toDateInput } from '../src/lib/format';
import { agentFieldName, draftFieldValue, withSshKey } from '../src/lib/itemTypes';
import { quickAction } from '../src/lib/quickKeys';
import { codeGroups, matchesLastGroup } from '../src/lib/recoveryCode';
import { acceleratorFromEvent, matchShortcut, SHORTCUTS } from '../src/lib/shortcuts';
import { applyTheme } from '../src/lib/theme';
import { scrollToReveal, visibleRange } from '../src/lib/virtualWindow';
import { isQuickAccessWindow } from '../src/lib/windowKind';

function key(k: string, mods: Partial<KeyboardEventInit> = {}, target: EventTarget = document.body): KeyboardEvent {
  const e = new KeyboardEvent('keydown', { key: k, bubbles: true, ...mods });
  Object.defineProperty(e, 'target', { value: target });
  return e;
}

describe('virtual window', () => {
  it('renders only the rows in view plus the overscan, even for 100,000 rows', () => {
    const r = visibleRange(52 * 50_000, 640, 52, 100_000, 6);
    expect(r.start).toBe(50_000 - 6);
    expect(r.end - r.start).toBeLessThanOrEqual(Math.ceil(640 / 52) + 1 + 12);
  });

  it('clamps at both ends and handles an empty list', () => {
    expect(visibleRange(0, 640, 52, 100_000, 6).start).toBe(0);
    expect(visibleRange(1e12, 640, 52, 10, 6)).toEqual({ start: 3, end: 10 });
    expect(visibleRange(0, 640, 52, 0, 6)).toEqual({ start: 0, end: 0 });
  });

  it('scrolls the least needed to reveal a row', () => {
    expect(scrollToReveal(0, 520, 520, 52)).toBe(0);
    expect(scrollToReveal(20, 0, 520, 52)).toBe(21 * 52 - 520);
    expect(scrollToReveal(5, 0, 520, 52)).toBe(0);
  });
});

describe('shortcuts', () => {
  it('maps the documented keys to their actions', () => {
    expect(matchShortcut(key('f', { ctrlKey: true }))).toBe('focus-search');
    expect(matchShortcut(key('n', { ctrlKey: true }))).toBe('new-item');
    expect(matchShortcut(key('e', { ctrlKey: true }))).toBe('edit-item');
    expect(matchShortcut(key('c', { ctrlKey: true }))).toBe('copy-password');
    expect(matchShortcut(key('b', { ctrlKey: true }))).toBe('copy-username');
    expect(matchShortcut(key('t', { ctrlKey: true }))).toBe('copy-totp');
    expect(matchShortcut(key('l', { ctrlKey: true }))).toBe('lock');
    expect(matchShortcut(key('g', { ctrlKey: true }))).toBe('generator');
    expect(matchShortcut(key('Delete'))).toBe('trash-item');
    expect(matchShortcut(key('?', { shiftKey: true }))).toBe('help');
    expect(matchShortcut(key(',', { ctrlKey: true }))).toBe('go-settings');
    expect(matchShortcut(key('l', { metaKey: true }))).toBe('lock');
  });

  it('leaves plain keys to text fields and ignores unknown combinations', () => {
    const input = document.createElement('input');
    expect(matchShortcut(key('Delete', {}, input))).toBeNull();
    expect(matchShortcut(key('?', { shiftKey: true }, input))).toBeNull();
    expect(matchShortcut(key('f', { ctrlKey: true }, input))).toBe('focus-search');
    expect(matchShortcut(key('f', { ctrlKey: true, altKey: true }))).toBeNull();
    expect(matchShortcut(key('x'))).toBeNull();
  });

  it('lets Ctrl+C copy selected text natively', () => {
    const input = document.createElement('input');
    input.value = 'hello';
    document.body.append(input);
    input.setSelectionRange(0, 3);
    expect(matchShortcut(key('c', { ctrlKey: true }, input))).toBeNull();
    input.setSelectionRange(0, 0);
    expect(matchShortcut(key('c', { ctrlKey: true }, input))).toBe('copy-password');
    input.remove();
  });

  it('gives every action exactly one key', () => {
    const keys = SHORTCUTS.map((s) => s.keys);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('records accelerators for the Quick Access shortcut', () => {
    expect(acceleratorFromEvent(key(' ', { ctrlKey: true, shiftKey: true }))).toBe('Ctrl+Shift+Space');
    expect(acceleratorFromEvent(key('k', { altKey: true }))).toBe('Alt+K');
    expect(acceleratorFromEvent(key('Control', { ctrlKey: true }))).toBeNull();
    expect(acceleratorFromEvent(key('k'))).toBeNull();
  });
});

describe('quick access keys', () => {
  it('maps Enter, Ctrl+U, Ctrl+T and Esc to their copies and hide', () => {
    expect(quickAction(key('Enter'))).toBe('copy-password');
    expect(quickAction(key('u', { ctrlKey: true }))).toBe('copy-username');
    expect(quickAction(key('t', { ctrlKey: true }))).toBe('copy-totp');
    expect(quickAction(key('Escape'))).toBe('hide');
    expect(quickAction(key('ArrowDown'))).toBe('down');
    expect(quickAction(key('a'))).toBeNull();
    expect(quickAction(key('Enter', { altKey: true }))).toBeNull();
  });
});

describe('recovery code', () => {
  const code = 'ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567';

  it('splits into groups and accepts the last group however it is typed', () => {
    expect(codeGroups(code)).toHaveLength(8);
    expect(matchesLastGroup(code, '4567')).toBe(true);
    expect(matchesLastGroup(code, ' 45-67 ')).toBe(true);
    expect(matchesLastGroup('AAAA-BOIB', 'b01b')).toBe(true);
  });

  it('refuses anything else', () => {
    expect(matchesLastGroup(code, 'ABCD')).toBe(false);
    expect(matchesLastGroup(code, '456')).toBe(false);
    expect(matchesLastGroup(code, '')).toBe(false);
    expect(matchesLastGroup('', '')).toBe(false);
  });
});

describe('small helpers', () => {
  it('tells the Quick Access window from the main one', () => {
    expect(isQuickAccessWindow({ hash: '#/quick', search: '' })).toBe(true);
    expect(isQuickAccessWindow({ hash: '', search: '?window=quick' })).toBe(true);
    expect(isQuickAccessWindow({ hash: '', search: '' })).toBe(false);
  });

  it('applies a theme override and returns to the system theme', () => {
    applyTheme('dark');
    expect(document.documentElement.dataset['theme']).toBe('dark');
    applyTheme('system');
    expect(document.documentElement.dataset['theme']).toBeUndefined();
  });

  it('formats sizes and round-trips date inputs', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    const at = fromDateInput('2027-03-04');
    expect(at).not.toBeNull();
    expect(toDateInput(at)).toBe('2027-03-04');
    expect(fromDateInput('')).toBeNull();
  });
});

describe('SSH keys in a draft', () => {
  const KEY = { privateKey: 'PRIV', publicKey: 'ssh-ed25519 AAAA c', fingerprint: 'SHA256:f', comment: 'c' };

  it('fills the four key fields in order where the first of them was, keeping the other fields in place', () => {
    const fields = [
      { name: 'Server', value: 'git.example', protected: false },
      { name: 'Comment', value: 'old', protected: false },
      { name: 'Fingerprint', value: 'old', protected: true },
      { name: 'Private key', value: 'old', protected: false },
      { name: 'Port', value: '22', protected: false },
    ];
    expect(withSshKey(fields, KEY)).toEqual([
      { name: 'Server', value: 'git.example', protected: false },
      { name: 'Private key', value: 'PRIV', protected: true },
      { name: 'Public key', value: 'ssh-ed25519 AAAA c', protected: false },
      { name: 'Fingerprint', value: 'SHA256:f', protected: true },
      { name: 'Comment', value: 'c', protected: false },
      { name: 'Port', value: '22', protected: false },
    ]);
    // The draft's own array is not changed.
    expect(fields[3]?.value).toBe('old');
  });

  it('puts the key fields first when the draft has none', () => {
    const fields = [{ name: 'Server', value: 'git.example', protected: false }];
    expect(withSshKey(fields, KEY).map((f) => f.name)).toEqual(['Private key', 'Public key', 'Fingerprint', 'Comment', 'Server']);
    expect(withSshKey([], KEY)).toHaveLength(4);
  });

  it('reads a field by name, and names what an AI agent asks for', () => {
    expect(draftFieldValue([{ name: 'Comment', value: 'me@laptop', protected: false }], 'Comment')).toBe('me@laptop');
    expect(draftFieldValue([], 'Comment')).toBe('');
    expect(agentFieldName('totp')).toBe('One-time code');
    expect(agentFieldName('API token')).toBe('API token');
  });
});
