import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import ItemEditor from '../src/components/ItemEditor.svelte';
import type { ItemDraft } from '../src/api';
import { EditorSession } from '../src/lib/editorSession.svelte';
import { details, hexId, installFake, settle } from './fakeTauri';

const SECRETS = ['hunter2-pw', 'JBSWY3DPEHPK3PXP', 'pin-4321', 'my private note'];

function draft(): ItemDraft {
  return {
    type: 'login',
    title: 'Mail',
    username: 'me@example.org',
    password: 'hunter2-pw',
    urls: ['https://mail.example'],
    notes: 'my private note',
    otp: 'otpauth://totp/Mail:me?secret=JBSWY3DPEHPK3PXP',
    fields: [
      { name: 'PIN', value: 'pin-4321', protected: true },
      { name: 'Plan', value: 'family', protected: false },
    ],
    tags: ['mail', 'personal'],
    folder: 'Home',
    favourite: false,
    expiresAt: null,
    neverAutofill: false,
  };
}

async function openEditor() {
  const fake = installFake();
  fake.handle('get_item_for_edit', ({ id }) => ({ id, revision: 9, draft: draft(), attachments: [{ name: 'a.txt', size: 10 }] }));
  fake.handle('update_item', ({ id }) => details(parseInt(id, 16)));
  const session = new EditorSession();
  await session.openExisting(hexId(5));
  const onsaved = vi.fn();
  const onclosed = vi.fn();
  const view = render(ItemEditor, { session, onsaved, onclosed });
  await settle();
  return { fake, session, onsaved, onclosed, view };
}

function domHoldsSecret(): boolean {
  const html = document.body.innerHTML;
  const values = [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')].map((i) => i.value);
  return SECRETS.some((s) => html.includes(s) || values.some((v) => v.includes(s)));
}

describe('ItemEditor', () => {
  it('shows the item for editing, secrets in password fields', async () => {
    await openEditor();
    expect(screen.getByTestId<HTMLInputElement>('editor-title').value).toBe('Mail');
    const password = screen.getByTestId<HTMLInputElement>('editor-password');
    expect(password.type).toBe('password');
    expect(password.value).toBe('hunter2-pw');
    expect(screen.getByTestId<HTMLInputElement>('editor-field-value-0').type).toBe('password');
    expect(screen.getByTestId<HTMLInputElement>('editor-field-value-1').type).toBe('text');
    expect(screen.getByTestId<HTMLInputElement>('editor-tags').value).toBe('mail, personal');
  });

  it('drops every secret from state and DOM when cancelled', async () => {
    const { session, onclosed } = await openEditor();
    expect(domHoldsSecret()).toBe(true);
    await fireEvent.click(screen.getByTestId('editor-cancel'));
    expect(onclosed).toHaveBeenCalled();
    expect(session.draft).toBeNull();
    expect(session.id).toBeNull();
    expect(domHoldsSecret()).toBe(false);
  });

  it('asks before discarding changes, then drops them', async () => {
    const { session } = await openEditor();
    await fireEvent.input(screen.getByTestId('editor-password'), { target: { value: 'changed-secret' } });
    await fireEvent.click(screen.getByTestId('editor-cancel'));
    expect(screen.getByTestId('confirm-dialog')).toBeTruthy();
    expect(session.draft).not.toBeNull();
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    expect(session.draft).toBeNull();
    expect(document.body.innerHTML).not.toContain('changed-secret');
  });

  it('drops the secrets after saving, and sends the draft with its base revision', async () => {
    const { fake, session, onsaved } = await openEditor();
    await fireEvent.input(screen.getByTestId('editor-title'), { target: { value: 'Mail (work)' } });
    await fireEvent.click(screen.getByTestId('editor-field-protected-1'));
    await fireEvent.click(screen.getByTestId('editor-save'));
    await settle();
    const [call] = fake.callsTo('update_item');
    expect(call?.baseRevision).toBe(9);
    expect(call?.item.title).toBe('Mail (work)');
    expect(call?.item.password).toBe('hunter2-pw');
    expect(call?.item.fields[1]).toEqual({ name: 'Plan', value: 'family', protected: true });
    expect(onsaved).toHaveBeenCalled();
    expect(session.draft).toBeNull();
  });

  it('drops the secrets when it is unmounted (the vault locked)', async () => {
    const { session, view } = await openEditor();
    view.unmount();
    expect(session.draft).toBeNull();
    expect(domHoldsSecret()).toBe(false);
  });

  it('round-trips "Never fill in the browser"', async () => {
    const { fake } = await openEditor();
    const never = screen.getByTestId<HTMLInputElement>('editor-never-autofill');
    expect(never.checked).toBe(false);
    await fireEvent.click(never);
    await fireEvent.click(screen.getByTestId('editor-save'));
    await settle();
    expect(fake.callsTo('update_item')[0]?.item.neverAutofill).toBe(true);
  });

  it('keeps the draft when saving fails, and says why', async () => {
    const { fake, session } = await openEditor();
    fake.fail('update_item', 'conflict', 'This item changed elsewhere; reopen it to edit.');
    await fireEvent.click(screen.getByTestId('editor-save'));
    await settle();
    expect(session.draft).not.toBeNull();
  });

  it('adds, protects and removes custom fields', async () => {
    const { session } = await openEditor();
    await fireEvent.click(screen.getByTestId('editor-add-field'));
    await fireEvent.input(screen.getByTestId('editor-field-name-2'), { target: { value: 'Recovery' } });
    await fireEvent.input(screen.getByTestId('editor-field-value-2'), { target: { value: 'r-123' } });
    await fireEvent.click(screen.getByTestId('editor-field-protected-2'));
    expect(session.draft?.fields[2]).toEqual({ name: 'Recovery', value: 'r-123', protected: true });
    expect(screen.getByTestId<HTMLInputElement>('editor-field-value-2').type).toBe('password');
    await fireEvent.click(screen.getByTestId('editor-field-remove-0'));
    expect(session.draft?.fields.map((f) => f.name)).toEqual(['Plan', 'Recovery']);
  });

  it('adds and removes attachments through Rust, tracking the new revision', async () => {
    const { fake, session } = await openEditor();
    fake.handle('add_attachment', () => ({ attachments: [{ name: 'a.txt', size: 10 }, { name: 'b.pdf', size: 4000 }], revision: 10 }));
    fake.handle('remove_attachment', () => ({ attachments: [{ name: 'b.pdf', size: 4000 }], revision: 11 }));
    await fireEvent.click(screen.getByTestId('editor-add-attachment'));
    await settle();
    expect(fake.callsTo('add_attachment')).toEqual([{ id: hexId(5) }]);
    expect(session.revision).toBe(10);
    await fireEvent.click(screen.getAllByTestId('editor-remove-attachment')[0]!);
    await settle();
    expect(fake.callsTo('remove_attachment')).toEqual([{ id: hexId(5), name: 'a.txt' }]);
    expect(session.revision).toBe(11);
    expect(screen.getAllByTestId('editor-remove-attachment')).toHaveLength(1);
  });

  it('fills the password from the inline generator', async () => {
    const { session } = await openEditor();
    await fireEvent.click(screen.getByTestId('editor-generate'));
    await settle();
    await fireEvent.click(screen.getByTestId('generator-use'));
    expect(session.draft?.password).toMatch(/^G3n-x+$/);
    expect(screen.queryByTestId('generator-panel')).toBeNull();
  });

  it('offers each type for a new item, with the template Rust gives', async () => {
    const fake = installFake();
    fake.handle('new_item_template', ({ type }) => ({
      ...draft(),
      type,
      title: '',
      password: '',
      notes: '',
      otp: '',
      urls: [],
      tags: [],
      fields: type === 'card' ? [{ name: 'Number', value: '', protected: true }] : [],
    }));
    const session = new EditorSession();
    await session.openNew('login');
    render(ItemEditor, { session, onsaved: vi.fn(), onclosed: vi.fn() });
    await settle();
    expect(screen.getByText('Save the item first, then attach files.')).toBeTruthy();
    await fireEvent.input(screen.getByTestId('editor-title'), { target: { value: 'Visa' } });
    await fireEvent.change(screen.getByTestId('editor-type'), { target: { value: 'card' } });
    await settle();
    expect(session.draft?.type).toBe('card');
    expect(session.draft?.title).toBe('Visa');
    expect(screen.getByTestId<HTMLInputElement>('editor-field-name-0').value).toBe('Number');
    expect(screen.queryByTestId('editor-otp')).toBeNull();
  });
});
