import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import ItemEditor from '../src/components/ItemEditor.svelte';
import Toasts from '../src/components/Toasts.svelte';
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
    neverForAgents: false,
    sshAgent: false,
    agentApproval: 'every',
    autoType: { enabled: true, sequence: '', rules: [] },
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

describe('ItemEditor: SSH keys', () => {
  const KEY = {
    privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@laptop',
    fingerprint: 'SHA256:abcDEF123',
    comment: 'me@laptop',
  };

  function sshTemplate(): ItemDraft {
    return {
      ...draft(),
      type: 'ssh-key',
      title: '',
      username: '',
      password: '',
      urls: [],
      notes: '',
      otp: '',
      tags: [],
      folder: '',
      fields: [
        { name: 'Private key', value: '', protected: true },
        { name: 'Public key', value: '', protected: false },
        { name: 'Fingerprint', value: '', protected: false },
        { name: 'Comment', value: '', protected: false },
      ],
      sshAgent: true,
    };
  }

  async function openNewKey(template: ItemDraft = sshTemplate()) {
    const fake = installFake();
    fake.handle('new_item_template', ({ type }) => (type === 'ssh-key' ? template : { ...draft(), type }));
    fake.handle('create_item', () => details(9, { type: 'ssh-key' }));
    const session = new EditorSession();
    await session.openNew('ssh-key');
    const onsaved = vi.fn();
    const onclosed = vi.fn();
    const view = render(ItemEditor, { session, onsaved, onclosed });
    render(Toasts);
    await settle();
    return { fake, session, onsaved, onclosed, view };
  }

  /** Chooses `content` as the key file, as the file input would. */
  async function chooseFile(content: string, name = 'id_ed25519') {
    const input = screen.getByTestId<HTMLInputElement>('editor-ssh-import-file');
    Object.defineProperty(input, 'files', { configurable: true, value: [new File([content], name)] });
    await fireEvent.change(input);
    await settle();
  }

  it('offers the SSH key type for a new item', async () => {
    const fake = installFake();
    fake.handle('new_item_template', ({ type }) => (type === 'ssh-key' ? sshTemplate() : { ...draft(), type }));
    const session = new EditorSession();
    await session.openNew('login');
    render(ItemEditor, { session, onsaved: vi.fn(), onclosed: vi.fn() });
    await settle();
    const type = screen.getByTestId<HTMLSelectElement>('editor-type');
    expect([...type.options].map((o) => [o.value, o.textContent])).toContainEqual(['ssh-key', 'SSH key']);
    expect(screen.queryByTestId('editor-ssh-generate')).toBeNull();
    expect(screen.queryByTestId('editor-ssh-agent')).toBeNull();
    expect(screen.getByTestId('editor-never-for-agents')).toBeTruthy();
    await fireEvent.change(type, { target: { value: 'ssh-key' } });
    await settle();
    expect(session.draft?.type).toBe('ssh-key');
    expect(screen.getByTestId<HTMLSelectElement>('editor-ssh-kind').value).toBe('ed25519');
    expect(screen.getByTestId<HTMLInputElement>('editor-ssh-agent').checked).toBe(true);
    expect(screen.getByTestId<HTMLSelectElement>('editor-agent-approval').value).toBe('every');
  });

  it('generates a key of the chosen kind with the draft comment, into the key fields in order', async () => {
    const { fake, session } = await openNewKey();
    let finish: (key: typeof KEY) => void = () => {};
    fake.handle('ssh_generate_key', () => new Promise((r) => (finish = r)));
    await fireEvent.input(screen.getByTestId('editor-field-value-3'), { target: { value: 'me@laptop' } });
    await fireEvent.change(screen.getByTestId('editor-ssh-kind'), { target: { value: 'rsa-3072' } });
    const generate = screen.getByTestId<HTMLButtonElement>('editor-ssh-generate');
    await fireEvent.click(generate);
    await settle();
    expect(generate.disabled).toBe(true);
    expect(generate.textContent?.trim()).toBe('Generating…');
    expect(fake.callsTo('ssh_generate_key')).toEqual([{ kind: 'rsa-3072', comment: 'me@laptop' }]);
    finish(KEY);
    await settle();
    expect(generate.disabled).toBe(false);
    expect(generate.textContent?.trim()).toBe('Generate');
    expect(session.draft?.fields).toEqual([
      { name: 'Private key', value: KEY.privateKey, protected: true },
      { name: 'Public key', value: KEY.publicKey, protected: false },
      { name: 'Fingerprint', value: KEY.fingerprint, protected: false },
      { name: 'Comment', value: 'me@laptop', protected: false },
    ]);
    expect(session.dirty).toBe(true);
    // The private key keeps its line breaks (a textarea, masked while hidden).
    const privateKey = screen.getByTestId<HTMLTextAreaElement>('editor-field-value-0');
    expect(privateKey.tagName).toBe('TEXTAREA');
    expect(privateKey.value).toBe(KEY.privateKey);
    expect(privateKey.classList.contains('masked')).toBe(true);
  });

  it('makes the key fields when the draft lacks them, ahead of the other fields, with an empty comment', async () => {
    const { fake, session } = await openNewKey({ ...sshTemplate(), fields: [{ name: 'Server', value: 'git.example', protected: false }] });
    fake.handle('ssh_generate_key', () => ({ ...KEY, comment: '' }));
    await fireEvent.click(screen.getByTestId('editor-ssh-generate'));
    await settle();
    expect(fake.callsTo('ssh_generate_key')).toEqual([{ kind: 'ed25519', comment: '' }]);
    expect(session.draft?.fields.map((f) => f.name)).toEqual(['Private key', 'Public key', 'Fingerprint', 'Comment', 'Server']);
    expect(session.draft?.fields[0]?.protected).toBe(true);
  });

  it('drops a key that arrives after the editor closed', async () => {
    const { fake, session } = await openNewKey();
    let finish: (key: typeof KEY) => void = () => {};
    fake.handle('ssh_generate_key', () => new Promise((r) => (finish = r)));
    await fireEvent.click(screen.getByTestId('editor-ssh-generate'));
    await fireEvent.click(screen.getByTestId('editor-cancel'));
    expect(session.draft).toBeNull();
    finish(KEY);
    await settle();
    expect(session.draft).toBeNull();
    expect(document.body.innerHTML).not.toContain('OPENSSH');
  });

  it('shows a failed generation in a toast', async () => {
    const { fake } = await openNewKey();
    fake.fail('ssh_generate_key', 'locked', 'The vault is locked.');
    await fireEvent.click(screen.getByTestId('editor-ssh-generate'));
    await settle();
    expect(screen.getByTestId('toast').textContent).toContain('The vault is locked.');
  });

  it('imports a key file, asking for its passphrase when it needs one', async () => {
    const { fake, session } = await openNewKey();
    const file = '-----BEGIN OPENSSH PRIVATE KEY-----\nencrypted\n-----END OPENSSH PRIVATE KEY-----\n';
    fake.handle('ssh_import_key', ({ passphrase }) => {
      if (passphrase !== 'open sesame') {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { kind: 'wrong_password', message: 'The passphrase of this key is wrong.' };
      }
      return KEY;
    });
    expect(screen.queryByTestId('editor-ssh-passphrase')).toBeNull();
    expect(screen.getByTestId('editor-ssh-import').textContent?.trim()).toBe('Import key file…');
    await chooseFile(file);
    expect(fake.callsTo('ssh_import_key')).toEqual([{ content: file, passphrase: null }]);
    const passphrase = screen.getByTestId<HTMLInputElement>('editor-ssh-passphrase');
    expect(passphrase.type).toBe('password');
    expect(document.activeElement).toBe(passphrase);
    // Asking is not an error: nothing is said to be wrong yet.
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByTestId('toast')).toBeNull();

    await fireEvent.input(passphrase, { target: { value: 'guess' } });
    await fireEvent.click(screen.getByTestId('editor-ssh-passphrase-submit'));
    await settle();
    expect(screen.getByRole('alert').textContent).toBe('The passphrase of this key is wrong.');

    const again = screen.getByTestId<HTMLInputElement>('editor-ssh-passphrase');
    await fireEvent.input(again, { target: { value: 'open sesame' } });
    // Enter imports; it does not save the item.
    await fireEvent.keyDown(again, { key: 'Enter' });
    await settle();
    expect(fake.callsTo('ssh_import_key').map((c) => c.passphrase)).toEqual([null, 'guess', 'open sesame']);
    expect(fake.callsTo('ssh_import_key').every((c) => c.content === file)).toBe(true);
    expect(fake.callsTo('create_item')).toHaveLength(0);
    expect(screen.queryByTestId('editor-ssh-passphrase')).toBeNull();
    expect(session.draft?.fields.map((f) => [f.name, f.value])).toEqual([
      ['Private key', KEY.privateKey],
      ['Public key', KEY.publicKey],
      ['Fingerprint', KEY.fingerprint],
      ['Comment', KEY.comment],
    ]);
  });

  it('shows other import errors in a toast, without asking for a passphrase', async () => {
    const { fake } = await openNewKey();
    fake.fail('ssh_import_key', 'invalid', 'This file is not an SSH private key.');
    await chooseFile('hello');
    expect(screen.queryByTestId('editor-ssh-passphrase')).toBeNull();
    expect(screen.getByTestId('toast').textContent).toContain('not an SSH private key');
  });

  it('Esc closes the passphrase question first, dropping the key file', async () => {
    const { fake, session, view, onclosed } = await openNewKey();
    fake.fail('ssh_import_key', 'wrong_password', 'This key needs its passphrase.');
    await chooseFile('encrypted-key-text');
    expect(screen.getByTestId('editor-ssh-passphrase')).toBeTruthy();
    const editor = view.component as { requestClose: () => void };
    editor.requestClose();
    await settle();
    expect(screen.queryByTestId('editor-ssh-passphrase')).toBeNull();
    expect(session.draft).not.toBeNull();
    expect(onclosed).not.toHaveBeenCalled();
    editor.requestClose();
    expect(onclosed).toHaveBeenCalled();
    expect(session.draft).toBeNull();
  });

  it('round-trips the agent settings and "Never give to AI agents"', async () => {
    const { fake } = await openNewKey();
    await fireEvent.click(screen.getByTestId('editor-ssh-agent'));
    await fireEvent.change(screen.getByTestId('editor-agent-approval'), { target: { value: 'once-per-unlock' } });
    await fireEvent.click(screen.getByTestId('editor-never-for-agents'));
    await fireEvent.click(screen.getByTestId('editor-save'));
    await settle();
    expect(fake.callsTo('create_item')[0]?.item).toMatchObject({
      type: 'ssh-key',
      sshAgent: false,
      agentApproval: 'once-per-unlock',
      neverForAgents: true,
    });
  });

  it('drops the generated private key when the editor closes', async () => {
    const { fake, session, view } = await openNewKey();
    fake.handle('ssh_generate_key', () => KEY);
    await fireEvent.click(screen.getByTestId('editor-ssh-generate'));
    await settle();
    expect(session.draft?.fields[0]?.value).toBe(KEY.privateKey);
    view.unmount();
    expect(session.draft).toBeNull();
    const values = [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')].map((i) => i.value);
    expect(values.some((v) => v.includes('OPENSSH'))).toBe(false);
  });
});
