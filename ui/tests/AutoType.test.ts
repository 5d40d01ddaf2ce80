import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import ItemEditor from '../src/components/ItemEditor.svelte';
import QuickAccess from '../src/components/QuickAccess.svelte';
import type { ItemDraft } from '../src/api';
import { EditorSession } from '../src/lib/editorSession.svelte';
import { details, hexId, installFake, settle } from './fakeTauri';

function draft(): ItemDraft {
  return {
    type: 'login',
    title: 'Shell',
    username: 'alice',
    password: 'pw',
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
    autoType: { enabled: true, sequence: '', rules: [{ window: '*Firefox*', sequence: '' }] },
  };
}

async function openEditor() {
  const fake = installFake();
  fake.handle('get_item_for_edit', ({ id }) => ({ id, revision: 9, draft: draft(), attachments: [] }));
  fake.handle('update_item', ({ id }) => details(parseInt(id, 16)));
  const session = new EditorSession();
  await session.openExisting(hexId(5));
  render(ItemEditor, { session, onsaved: vi.fn(), onclosed: vi.fn() });
  await settle();
  return fake;
}

async function renderQuick() {
  const fake = installFake(5);
  fake.handle('app_state', () => ({ state: 'unlocked', vaultPath: '/v', defaultVaultPath: '/v', version: '0.1.0', rollback: null }));
  fake.handle('auto_type_choose', () => null);
  render(QuickAccess);
  await settle();
  return fake;
}

const CHOICE = {
  request: 7,
  window: 'xterm - login',
  items: [
    { id: hexId(1), title: 'Shell one', username: 'alice' },
    { id: hexId(2), title: 'Shell two', username: 'bob' },
  ],
};

describe('auto-type in the editor', () => {
  it('shows the rules, adds and removes one, and saves sequence and rules', async () => {
    const fake = await openEditor();
    expect(screen.getByTestId<HTMLInputElement>('editor-autotype-enabled').checked).toBe(true);
    expect(screen.getByTestId<HTMLInputElement>('editor-autotype-window-0').value).toBe('*Firefox*');
    await fireEvent.click(screen.getByTestId('editor-autotype-add-rule'));
    await fireEvent.input(screen.getByTestId('editor-autotype-window-1'), { target: { value: 'xterm*' } });
    await fireEvent.input(screen.getByTestId('editor-autotype-rule-sequence-1'), {
      target: { value: '{PASSWORD}{ENTER}' },
    });
    await fireEvent.input(screen.getByTestId('editor-autotype-sequence'), { target: { value: '{USERNAME}{ENTER}' } });
    await fireEvent.click(screen.getByTestId('editor-autotype-remove-0'));
    await fireEvent.click(screen.getByTestId('editor-save'));
    await settle();
    expect(fake.callsTo('update_item').at(-1)?.item.autoType).toEqual({
      enabled: true,
      sequence: '{USERNAME}{ENTER}',
      rules: [{ window: 'xterm*', sequence: '{PASSWORD}{ENTER}' }],
    });
  });

  it('turning auto-type off hides the sequence and rules and saves enabled = false', async () => {
    const fake = await openEditor();
    await fireEvent.click(screen.getByTestId('editor-autotype-enabled'));
    expect(screen.queryByTestId('editor-autotype-sequence')).toBeNull();
    await fireEvent.click(screen.getByTestId('editor-save'));
    await settle();
    expect(fake.callsTo('update_item').at(-1)?.item.autoType.enabled).toBe(false);
  });
});

describe('auto-type in Quick Access', () => {
  it('the chooser lists the matches; arrows and Enter type the second', async () => {
    const fake = await renderQuick();
    fake.emit('quick-access-shown', {});
    fake.emit('auto-type-choose', CHOICE);
    await settle();
    expect(screen.queryByTestId('quick-search')).toBeNull();
    expect(screen.getByTestId('autotype-window').textContent).toBe('xterm - login');
    const list = screen.getByTestId('autotype-choices');
    expect(document.activeElement).toBe(list);
    expect(screen.getAllByTestId('autotype-choice').map((r) => r.dataset['id'])).toEqual([hexId(1), hexId(2)]);
    await fireEvent.keyDown(list, { key: 'ArrowDown' });
    await fireEvent.keyDown(list, { key: 'Enter' });
    await settle();
    expect(fake.callsTo('auto_type_choose')).toEqual([{ request: 7, id: hexId(2) }]);
    expect(fake.callsTo('copy_field')).toHaveLength(0);
    expect(screen.getByTestId('quick-search')).toBeTruthy();
  });

  it('Esc cancels the chooser without typing', async () => {
    const fake = await renderQuick();
    fake.emit('auto-type-choose', CHOICE);
    await settle();
    await fireEvent.keyDown(screen.getByTestId('autotype-choices'), { key: 'Escape' });
    await settle();
    expect(fake.callsTo('auto_type_choose')).toEqual([{ request: 7, id: null }]);
    expect(fake.commandNames).not.toContain('quick_access_hide');
  });

  it('a notice (Wayland) shows above the search, and Enter still copies the password', async () => {
    const fake = await renderQuick();
    fake.emit('quick-access-shown', {});
    fake.emit('auto-type-notice', { kind: 'unavailable', message: 'Auto-type is not available on Wayland.' });
    await settle();
    expect(screen.getByTestId('autotype-notice').dataset['kind']).toBe('unavailable');
    await fireEvent.keyDown(screen.getByTestId('quick-search'), { key: 'Enter' });
    await settle();
    expect(fake.callsTo('copy_field')).toEqual([{ id: hexId(1), field: { kind: 'password' } }]);
  });
});
