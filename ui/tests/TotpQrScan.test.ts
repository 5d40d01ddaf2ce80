import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import ItemEditor from '../src/components/ItemEditor.svelte';
import Toasts from '../src/components/Toasts.svelte';
import type { ItemDraft, QrScan, ScannedAccount } from '../src/api';
import { EditorSession } from '../src/lib/editorSession.svelte';
import { details, installFake, settle } from './fakeTauri';

function account(title: string, account: string | null, secret: string): ScannedAccount {
  const label = encodeURIComponent(account ?? '');
  return { title, issuer: title, account, otp: `otpauth://totp/${title}:${label}?secret=${secret}&issuer=${title}` };
}

const ONE: QrScan = { accounts: [account('Mail', 'alice@example.com', 'JBSWY3DPEHPK3PXP')], skipped: [] };
const BATCH: QrScan = {
  accounts: [
    account('Mail', 'alice@example.com', 'JBSWY3DPEHPK3PXP'),
    account('Bank', 'bob', 'GEZDGNBVGY3TQOJQ'),
    account('Shop', null, 'MFRGGZDFMZTWQ2LK'),
  ],
  skipped: ['MD5 one-time passwords are not supported: use SHA1, SHA256 or SHA512'],
};

function template(): ItemDraft {
  return {
    type: 'login',
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
    sshAgent: false,
    agentApproval: 'every',
    autoType: { enabled: true, sequence: '', rules: [] },
  };
}

async function openNewLogin() {
  const fake = installFake();
  fake.handle('new_item_template', () => template());
  let created = 0;
  fake.handle('create_item', () => details(100 + ++created));
  const session = new EditorSession();
  await session.openNew('login');
  const onitemsadded = vi.fn();
  const view = render(ItemEditor, { session, onsaved: vi.fn(), onclosed: vi.fn(), onitemsadded });
  render(Toasts);
  await settle();
  return { fake, session, onitemsadded, view };
}

describe('ItemEditor: TOTP from a QR code', () => {
  it('offers both scans beside the TOTP field, reachable by keyboard', async () => {
    await openNewLogin();
    for (const id of ['editor-otp-scan-screen', 'editor-otp-scan-file']) {
      const button = screen.getByTestId<HTMLButtonElement>(id);
      expect(button.tagName).toBe('BUTTON');
      expect(button.type).toBe('button');
      expect(button.disabled).toBe(false);
      expect(button.tabIndex).toBe(0);
    }
    expect(screen.getByTestId('editor-otp-scan-screen').textContent).toContain('Scan QR code from screen');
    expect(screen.getByTestId('editor-otp-scan-file').textContent).toContain('From image file…');
  });

  it('fills the TOTP field, and an empty title and username, from a code on the screen', async () => {
    const { fake, session } = await openNewLogin();
    fake.handle('totp_scan_screen', () => ONE);
    await fireEvent.click(screen.getByTestId('editor-otp-scan-screen'));
    await settle();
    expect(fake.callsTo('totp_scan_screen')).toHaveLength(1);
    expect(session.draft?.otp).toBe(ONE.accounts[0]!.otp);
    expect(session.draft?.title).toBe('Mail');
    expect(session.draft?.username).toBe('alice@example.com');
    expect(session.dirty).toBe(true);
    expect(screen.getByTestId<HTMLInputElement>('editor-otp').type).toBe('password');
    expect(screen.getByTestId('editor-otp-scan-status').textContent).toContain('Mail · alice@example.com');
    expect(screen.queryByTestId('editor-otp-others')).toBeNull();
  });

  it('keeps a title and username the user already typed', async () => {
    const { fake, session } = await openNewLogin();
    await fireEvent.input(screen.getByTestId('editor-title'), { target: { value: 'My mail' } });
    await fireEvent.input(screen.getByTestId('editor-username'), { target: { value: 'me' } });
    fake.handle('totp_scan_screen', () => ONE);
    await fireEvent.click(screen.getByTestId('editor-otp-scan-screen'));
    await settle();
    expect(session.draft?.otp).toBe(ONE.accounts[0]!.otp);
    expect(session.draft?.title).toBe('My mail');
    expect(session.draft?.username).toBe('me');
  });

  it('reads an image file the user picks, and does nothing when the dialog is cancelled', async () => {
    const { fake, session } = await openNewLogin();
    fake.handle('pick_qr_image', () => null);
    await fireEvent.click(screen.getByTestId('editor-otp-scan-file'));
    await settle();
    expect(fake.callsTo('totp_scan_file')).toHaveLength(0);
    expect(session.draft?.otp).toBe('');
    expect(screen.queryByTestId('editor-otp-scan-error')).toBeNull();

    fake.handle('pick_qr_image', () => '/home/me/Pictures/qr.png');
    fake.handle('totp_scan_file', () => ONE);
    await fireEvent.click(screen.getByTestId('editor-otp-scan-file'));
    await settle();
    expect(fake.callsTo('totp_scan_file')).toEqual([{ path: '/home/me/Pictures/qr.png' }]);
    expect(session.draft?.otp).toBe(ONE.accounts[0]!.otp);
  });

  it('says inline why a scan found nothing, and leaves the draft alone', async () => {
    const { fake, session } = await openNewLogin();
    const message = 'This QR code is not a one-time-password code (it holds no otpauth:// link).';
    fake.fail('totp_scan_screen', 'invalid', message);
    await fireEvent.click(screen.getByTestId('editor-otp-scan-screen'));
    await settle();
    const error = screen.getByTestId('editor-otp-scan-error');
    expect(error.textContent).toBe(message);
    expect(error.getAttribute('role')).toBe('alert');
    expect(session.draft?.otp).toBe('');
    expect(session.dirty).toBe(false);

    fake.fail('totp_scan_screen', 'invalid', 'Scanning the screen is not available in a Wayland session: use "From image file…" instead.');
    await fireEvent.click(screen.getByTestId('editor-otp-scan-screen'));
    await settle();
    expect(screen.getByTestId('editor-otp-scan-error').textContent).toContain('not available in a Wayland session');
    fake.handle('totp_scan_screen', () => ONE);
    await fireEvent.click(screen.getByTestId('editor-otp-scan-screen'));
    await settle();
    expect(screen.queryByTestId('editor-otp-scan-error')).toBeNull();
  });

  it('fills this item with the first account of a batch and adds the others as new logins', async () => {
    const { fake, session, onitemsadded } = await openNewLogin();
    fake.handle('totp_scan_screen', () => BATCH);
    await fireEvent.click(screen.getByTestId('editor-otp-scan-screen'));
    await settle();
    expect(session.draft?.otp).toBe(BATCH.accounts[0]!.otp);
    expect(screen.getByTestId('editor-otp-scan-status').textContent).toContain('1 could not be used: MD5');
    const offer = screen.getByTestId('editor-otp-others');
    expect(offer.textContent).toContain('holds 3 accounts');
    expect(offer.textContent).toContain('Bank · bob');
    // The offer names accounts, never their secrets.
    expect(offer.innerHTML).not.toContain('GEZDGNBVGY3TQOJQ');
    const add = screen.getByTestId('editor-otp-add-others');
    expect(add.textContent).toContain('Add 2 other accounts as new items');

    await fireEvent.click(add);
    await settle();
    const created = fake.callsTo('create_item').map(({ item }) => [item.type, item.title, item.username, item.otp]);
    expect(created).toEqual([
      ['login', 'Bank', 'bob', BATCH.accounts[1]!.otp],
      ['login', 'Shop', '', BATCH.accounts[2]!.otp],
    ]);
    expect(onitemsadded).toHaveBeenCalledTimes(1);
    expect(screen.queryByTestId('editor-otp-others')).toBeNull();
    expect(screen.getByText('Added 2 items with one-time passwords.')).toBeTruthy();
    // This item is still the editor's, unsaved, with the first account.
    expect(session.draft?.otp).toBe(BATCH.accounts[0]!.otp);
    expect(fake.callsTo('update_item')).toHaveLength(0);
  });

  it('offers the accounts not yet added again when adding one fails', async () => {
    const { fake, onitemsadded } = await openNewLogin();
    fake.handle('totp_scan_screen', () => BATCH);
    await fireEvent.click(screen.getByTestId('editor-otp-scan-screen'));
    await settle();
    let calls = 0;
    fake.handle('create_item', ({ item }) => {
      calls += 1;
      if (calls === 2) {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { kind: 'locked', message: 'The vault is locked; unlock it first.' };
      }
      return details(200, { title: item.title });
    });
    await fireEvent.click(screen.getByTestId('editor-otp-add-others'));
    await settle();
    expect(screen.getByTestId('editor-otp-scan-error').textContent).toBe('The vault is locked; unlock it first.');
    expect(screen.getByTestId('editor-otp-add-others').textContent).toBe('Add 1 other account as a new item');
    expect(onitemsadded).toHaveBeenCalledTimes(1);
  });

  it('drops the other accounts when the offer is declined or the editor closes', async () => {
    const { fake, view } = await openNewLogin();
    fake.handle('totp_scan_screen', () => BATCH);
    await fireEvent.click(screen.getByTestId('editor-otp-scan-screen'));
    await settle();
    await fireEvent.click(screen.getByTestId('editor-otp-others-dismiss'));
    expect(screen.queryByTestId('editor-otp-others')).toBeNull();
    expect(fake.callsTo('create_item')).toHaveLength(0);

    await fireEvent.click(screen.getByTestId('editor-otp-scan-screen'));
    await settle();
    expect(screen.getByTestId('editor-otp-others')).toBeTruthy();
    view.unmount();
    expect(document.body.innerHTML).not.toContain('Bank');
    expect(document.body.innerHTML).not.toContain('GEZDGNBVGY3TQOJQ');
  });
});
