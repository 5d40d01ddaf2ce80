import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import MainScreen from '../src/components/MainScreen.svelte';
import Toasts from '../src/components/Toasts.svelte';
import { details, hexId, installFake, settle, summary } from './fakeTauri';

async function renderMain(itemCount = 50) {
  const fake = installFake(itemCount);
  fake.handle('get_item_for_edit', ({ id }) => ({
    id,
    revision: 3,
    attachments: [],
    draft: {
      type: 'login',
      title: 'Item',
      username: 'me',
      password: 'pw-secret',
      urls: [],
      notes: '',
      otp: '',
      fields: [],
      tags: [],
      folder: '',
      favourite: false,
      expiresAt: null,
      neverAutofill: false,
      neverForAgents: false,
      sshAgent: false,
      agentApproval: 'every',
      autoType: { enabled: true, sequence: '', rules: [] },
    },
  }));
  fake.handle('new_item_template', ({ type }) => ({
    type,
    title: '',
    username: '',
    password: '',
    urls: [],
    notes: '',
    otp: '',
    fields: [],
    tags: [],
    folder: '',
    favourite: false,
    expiresAt: null,
    neverAutofill: false,
    neverForAgents: false,
    sshAgent: type === 'ssh-key',
    agentApproval: 'every',
    autoType: { enabled: true, sequence: '', rules: [] },
  }));
  const onlocked = vi.fn();
  render(MainScreen, { onlocked });
  render(Toasts);
  await settle();
  return { fake, onlocked };
}

function press(key: string, mods: Partial<KeyboardEventInit> = {}, target: Element = document.body) {
  return fireEvent.keyDown(target, { key, bubbles: true, ...mods });
}

describe('MainScreen keyboard shortcuts', () => {
  it('Ctrl+C, Ctrl+B and Ctrl+T copy the selected item through Rust', async () => {
    const { fake } = await renderMain();
    const first = hexId(1);
    await press('c', { ctrlKey: true });
    await press('b', { ctrlKey: true });
    await settle();
    // Item 1 has no TOTP in the fake (odd numbers); move to item 2, which has.
    await press('ArrowDown', {}, screen.getByTestId('search-input'));
    await press('t', { ctrlKey: true });
    await settle();
    expect(fake.callsTo('copy_field')).toEqual([
      { id: first, field: { kind: 'password' } },
      { id: first, field: { kind: 'username' } },
      { id: hexId(2), field: { kind: 'totp' } },
    ]);
  });

  it('shortcuts fire from the search box too, and Ctrl+C there copies only without a text selection', async () => {
    const { fake } = await renderMain();
    const input = screen.getByTestId<HTMLInputElement>('search-input');
    await fireEvent.input(input, { target: { value: 'Item' } });
    await settle();
    input.setSelectionRange(0, 4);
    await press('c', { ctrlKey: true }, input);
    expect(fake.callsTo('copy_field')).toHaveLength(0);
    input.setSelectionRange(4, 4);
    await press('c', { ctrlKey: true }, input);
    await settle();
    expect(fake.callsTo('copy_field')).toHaveLength(1);
  });

  it('Ctrl+L locks the vault', async () => {
    const { fake, onlocked } = await renderMain();
    await press('l', { ctrlKey: true });
    await settle();
    expect(fake.commandNames).toContain('lock');
    expect(onlocked).toHaveBeenCalled();
  });

  it('Delete moves the selected item to the trash, with an undo', async () => {
    const { fake } = await renderMain();
    await press('Delete');
    await settle();
    expect(fake.callsTo('trash_item')).toEqual([{ id: hexId(1) }]);
    await fireEvent.click(screen.getByTestId('toast-action'));
    await settle();
    expect(fake.callsTo('restore_item')).toEqual([{ id: hexId(1) }]);
  });

  it('Delete in the search box deletes text, not items', async () => {
    const { fake } = await renderMain();
    await press('Delete', {}, screen.getByTestId('search-input'));
    await settle();
    expect(fake.callsTo('trash_item')).toHaveLength(0);
  });

  it('Ctrl+E edits the selected item and Ctrl+N starts a new one', async () => {
    const { fake } = await renderMain();
    await press('e', { ctrlKey: true });
    await settle();
    expect(fake.callsTo('get_item_for_edit')).toEqual([{ id: hexId(1) }]);
    expect(screen.getByTestId('editor')).toBeTruthy();
    // Escape leaves the untouched editor; Ctrl+N then opens a blank login.
    await press('Escape', {}, screen.getByTestId('editor-title'));
    await settle();
    expect(screen.queryByTestId('editor')).toBeNull();
    await press('n', { ctrlKey: true });
    await settle();
    expect(fake.callsTo('new_item_template')).toEqual([{ type: 'login' }]);
    expect(screen.getByTestId('editor')).toBeTruthy();
  });

  it('Ctrl+S saves the item being edited', async () => {
    const { fake } = await renderMain();
    fake.handle('update_item', ({ id }) => details(parseInt(id, 16)));
    await press('e', { ctrlKey: true });
    await settle();
    await fireEvent.input(screen.getByTestId('editor-title'), { target: { value: 'Renamed' } });
    await press('s', { ctrlKey: true }, screen.getByTestId('editor-title'));
    await settle();
    const saves = fake.callsTo('update_item');
    expect(saves).toHaveLength(1);
    expect(saves[0]).toMatchObject({ id: hexId(1), baseRevision: 3, item: { title: 'Renamed', password: 'pw-secret' } });
    expect(screen.queryByTestId('editor')).toBeNull();
  });

  it('Ctrl+F focuses the search box from another screen', async () => {
    await renderMain();
    await press('3', { ctrlKey: true });
    await settle();
    expect(screen.queryByTestId('search-input')).toBeNull();
    await press('f', { ctrlKey: true });
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId('search-input'));
  });

  it('Ctrl+G opens the generator and ? the shortcut list', async () => {
    const { fake } = await renderMain();
    await press('g', { ctrlKey: true });
    await settle();
    expect(screen.getByTestId('generator-panel')).toBeTruthy();
    expect(fake.commandNames).toContain('generate_password');
    await press('?', { shiftKey: true });
    expect(screen.getByTestId('shortcut-help')).toBeTruthy();
    await press('Escape', {}, screen.getByTestId('shortcut-help'));
    expect(screen.queryByTestId('shortcut-help')).toBeNull();
  });

  it('Ctrl+R reveals the password in the view, Ctrl+O opens the site, Ctrl+D toggles favourite', async () => {
    const { fake } = await renderMain();
    fake.handle('open_url', () => null).handle('set_favourite', () => null);
    await press('r', { ctrlKey: true });
    await press('o', { ctrlKey: true });
    await press('d', { ctrlKey: true });
    await settle();
    expect(fake.callsTo('reveal_field')).toEqual([{ id: hexId(1), field: { kind: 'password' } }]);
    expect(screen.getByTestId('revealed-password').textContent).toBe('secret-password');
    expect(fake.callsTo('open_url')).toEqual([{ id: hexId(1), index: 0 }]);
    expect(fake.callsTo('set_favourite')).toEqual([{ id: hexId(1), favourite: true }]);
  });

  it('says when Rust has cleared the clipboard', async () => {
    const { fake } = await renderMain();
    fake.emit('clipboard-cleared', {});
    await settle();
    expect(screen.getByTestId('toast').textContent).toContain('Clipboard cleared');
  });

  it('shows Rust errors as a toast message', async () => {
    const { fake } = await renderMain();
    fake.fail('copy_field', 'locked', 'The vault is locked.');
    await press('c', { ctrlKey: true });
    await settle();
    const toast = screen.getByTestId('toast');
    expect(toast.dataset['kind']).toBe('error');
    expect(toast.textContent).toContain('The vault is locked.');
  });
});

describe('MainScreen and changes made elsewhere', () => {
  it('reads the list again once it listens, for a sync that landed while it mounted', async () => {
    const fake = installFake(2);
    const listen = fake.listen.bind(fake);
    // The first sync after an unlock finishes after the list's first read
    // and before the screen listens for changes: no event reaches it.
    fake.listen = (event, handler) => {
      if (event === 'vault-changed') fake.items.push(summary(3));
      return listen(event, handler);
    };
    render(MainScreen, { onlocked: vi.fn() });
    await settle();
    expect(screen.getByTestId('item-list').dataset['total']).toBe('3');
  });
});
