import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { ConflictCopy, SyncKit, SyncStateName, SyncStatus } from '../src/api';
import App from '../src/App.svelte';
import EmergencyKit from '../src/components/EmergencyKit.svelte';
import MainScreen from '../src/components/MainScreen.svelte';
import SyncAccountSection from '../src/components/SyncAccountSection.svelte';
import SyncSignInDialog from '../src/components/SyncSignInDialog.svelte';
import SyncStatusLine from '../src/components/SyncStatusLine.svelte';
import Toasts from '../src/components/Toasts.svelte';
import { statusLine } from '../src/lib/syncText';
import { details, hexId, installFake, settle, syncStatus } from './fakeTauri';

const KIT: SyncKit = {
  server: 'https://sync.example.org',
  email: 'me@example.org',
  secretKey: 'A3-K7QW2P-9XJ4TR-MN8B',
  qrSvg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
};
const CODE = 'ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567';
const NOW = Math.floor(Date.now() / 1000);

function type(testId: string, value: string) {
  return fireEvent.input(screen.getByTestId(testId), { target: { value } });
}

function toastTexts(): string[] {
  return screen.queryAllByTestId('toast').map((t) => t.textContent ?? '');
}

describe('Settings → Sync account, not linked', () => {
  function unlinked() {
    const fake = installFake();
    let linked = false;
    fake.handle('sync_status', () => (linked ? syncStatus() : null));
    fake.handle('sync_register', () => {
      linked = true;
      return KIT;
    });
    return fake;
  }

  it('creates an account from the vault’s master password and shows the Emergency Kit at once', async () => {
    const fake = unlinked();
    render(SyncAccountSection);
    await settle();
    expect(screen.getByTestId('sync-create-form').textContent).toContain('Only encrypted items leave this computer');
    const submit = screen.getByTestId<HTMLButtonElement>('sync-create-submit');
    expect(submit.disabled).toBe(true);
    await type('sync-create-server', 'https://sync.example.org');
    await type('sync-create-email', 'me@example.org');
    await type('sync-create-password', 'the vault password');
    await fireEvent.click(submit);
    await settle();
    expect(fake.callsTo('sync_register')).toEqual([
      { server: 'https://sync.example.org', email: 'me@example.org', password: 'the vault password' },
    ]);
    const kit = screen.getByTestId('emergency-kit');
    expect(kit.getAttribute('aria-modal')).toBe('true');
    expect(within(kit).getByTestId('kit-secret-key').textContent).toBe(KIT.secretKey);
    expect(within(kit).getByTestId('kit-server').textContent).toBe(KIT.server);
    expect(within(kit).getByTestId('kit-email').textContent).toBe(KIT.email);
    expect(within(kit).getByTestId('kit-password-blank')).toBeTruthy();
    expect(within(kit).getByTestId<HTMLImageElement>('kit-qr').src).toMatch(/^data:image\/svg\+xml/);
    // The kit came with the answer: no second trip for it.
    expect(fake.callsTo('sync_kit')).toHaveLength(0);
    // Behind the kit, the section shows the linked account.
    expect(screen.getByTestId('sync-linked')).toBeTruthy();
    await fireEvent.click(within(kit).getByTestId('kit-done'));
    expect(screen.queryByTestId('emergency-kit')).toBeNull();
    expect(document.body.innerHTML).not.toContain(KIT.secretKey);
  });

  it('says a wrong master password in the form, and shows no kit', async () => {
    const fake = unlinked();
    fake.fail('sync_register', 'wrong_password', 'That is not this vault’s master password.');
    render(SyncAccountSection);
    await settle();
    await type('sync-create-server', 'https://sync.example.org');
    await type('sync-create-email', 'me@example.org');
    await type('sync-create-password', 'nope');
    await fireEvent.click(screen.getByTestId('sync-create-submit'));
    await settle();
    const error = screen.getByTestId('sync-create-error');
    expect(error.textContent).toBe('That is not this vault’s master password.');
    expect(error.dataset['kind']).toBe('wrong_password');
    expect(screen.queryByTestId('emergency-kit')).toBeNull();
  });

  it('"Lock and sign in…" locks and leads to the join form', async () => {
    const fake = installFake();
    fake.handle('sync_status', () => null);
    render(App);
    await settle();
    await fireEvent.click(screen.getByTestId('nav-settings'));
    await settle();
    expect(screen.getByTestId('sync-join-here').textContent).toContain('makes a new vault');
    await fireEvent.click(screen.getByTestId('sync-lock-and-join'));
    await settle();
    expect(fake.commandNames).toContain('lock');
    expect(screen.getByTestId('sync-join-screen')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('sync-join-cancel'));
    expect(screen.getByTestId('unlock-screen')).toBeTruthy();
  });
});

describe('Settings → Sync account, linked', () => {
  it('shows the state, the last sync, what waits, the next try and the message', async () => {
    const fake = installFake();
    fake.handle('sync_status', () =>
      syncStatus({ state: 'offline', lastSyncAt: NOW - 120, pending: 3, nextAttemptAt: NOW + 40, message: 'The server did not answer.' }),
    );
    render(SyncAccountSection);
    await settle();
    expect(screen.getByTestId('sync-state').dataset['state']).toBe('offline');
    expect(screen.getByTestId('sync-pending').textContent).toBe('3 changes');
    expect(screen.getByTestId('sync-next-attempt').textContent).toMatch(/^in \d+ s$/);
    expect(screen.getByTestId('sync-message').textContent).toBe('The server did not answer.');
    fake.emit('sync-status', syncStatus({ state: 'syncing' }));
    await settle();
    expect(screen.getByTestId('sync-state').dataset['state']).toBe('syncing');
    expect(screen.getByTestId<HTMLButtonElement>('sync-now').disabled).toBe(true);
    expect(screen.queryByTestId('sync-next-attempt')).toBeNull();
  });

  it('warns when the server’s data failed verification', async () => {
    const fake = installFake();
    fake.handle('sync_status', () => syncStatus({ state: 'hostile', message: 'The item list was signed by an unknown key.' }));
    render(SyncAccountSection);
    await settle();
    const warning = screen.getByTestId('sync-hostile-warning');
    expect(warning.getAttribute('role')).toBe('alert');
    expect(warning.textContent).toContain('nothing was applied');
    expect(screen.getByTestId('sync-hostile-message').textContent).toBe('The item list was signed by an unknown key.');
  });

  it('opens the Emergency Kit page from sync_kit; Save as PDF toasts the path, Print prints, Esc closes', async () => {
    const fake = installFake();
    fake.handle('sync_kit', () => KIT);
    fake.handle('sync_save_kit_pdf', () => '/home/me/Tessera Emergency Kit.pdf');
    const print = vi.spyOn(window, 'print').mockImplementation(() => undefined);
    render(SyncAccountSection);
    render(Toasts);
    await settle();
    await fireEvent.click(screen.getByTestId('sync-kit-open'));
    await settle();
    expect(fake.callsTo('sync_kit')).toHaveLength(1);
    expect(screen.getByTestId('kit-secret-key').textContent).toBe(KIT.secretKey);
    await fireEvent.click(screen.getByTestId('kit-print'));
    expect(print).toHaveBeenCalledOnce();
    await fireEvent.click(screen.getByTestId('kit-save-pdf'));
    await settle();
    expect(toastTexts().some((t) => t.includes('/home/me/Tessera Emergency Kit.pdf'))).toBe(true);
    await fireEvent.keyDown(screen.getByTestId('emergency-kit'), { key: 'Escape' });
    expect(screen.queryByTestId('emergency-kit')).toBeNull();
  });

  it('lists devices, marks this computer and revokes another after asking', async () => {
    const fake = installFake();
    fake.handle('sync_devices', () => [
      { id: 'd1', name: 'Laptop', created: 1_700_000_000, revoked: false, current: true },
      { id: 'd2', name: 'Old desktop', created: 1_690_000_000, revoked: false, current: false },
      { id: 'd3', name: 'Lost phone', created: 1_680_000_000, revoked: true, current: false },
    ]);
    fake.handle('sync_revoke_device', () => null);
    render(SyncAccountSection);
    await settle();
    const rows = screen.getAllByTestId('sync-device');
    expect(rows.map((r) => r.dataset['id'])).toEqual(['d1', 'd2', 'd3']);
    expect(within(rows[0]!).getByTestId('sync-device-current')).toBeTruthy();
    expect(within(rows[0]!).queryByTestId('sync-device-revoke')).toBeNull();
    expect(within(rows[2]!).getByTestId('sync-device-revoked')).toBeTruthy();
    expect(within(rows[2]!).queryByTestId('sync-device-revoke')).toBeNull();
    await fireEvent.click(within(rows[1]!).getByTestId('sync-device-revoke'));
    expect(fake.callsTo('sync_revoke_device')).toHaveLength(0);
    expect(screen.getByTestId('confirm-dialog').textContent).toContain('Old desktop');
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(fake.callsTo('sync_revoke_device')).toEqual([{ id: 'd2' }]);
    expect(fake.callsTo('sync_devices')).toHaveLength(2);
  });

  it('signs out only after a confirmation that says what it does', async () => {
    const fake = installFake();
    let linked = true;
    fake.handle('sync_status', () => (linked ? syncStatus() : null));
    fake.handle('sync_sign_out', () => {
      linked = false;
      return null;
    });
    render(SyncAccountSection);
    await settle();
    await fireEvent.click(screen.getByTestId('sync-sign-out'));
    const confirm = screen.getByTestId('confirm-dialog');
    expect(confirm.textContent).toContain('unlinked from the account');
    expect(confirm.textContent).toContain('Every item stays in this vault');
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(fake.callsTo('sync_sign_out')).toHaveLength(1);
    expect(screen.getByTestId('sync-create-form')).toBeTruthy();
  });

  it('the main window’s status line goes when the vault is unlinked in Settings', async () => {
    const fake = installFake();
    let linked = true;
    fake.handle('sync_status', () => (linked ? syncStatus() : null));
    fake.handle('sync_sign_out', () => {
      linked = false;
      return null;
    });
    render(MainScreen, { onlocked: vi.fn() });
    await settle();
    await fireEvent.click(screen.getByTestId('sync-status-line'));
    await settle();
    await fireEvent.click(screen.getByTestId('sync-sign-out'));
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(screen.queryByTestId('sync-status-line')).toBeNull();
  });

  it('Sync now that finds the session expired opens the sign-in dialog', async () => {
    const fake = installFake();
    fake.fail('sync_now', 'sign_in_needed', 'Sign in to sync again.');
    render(MainScreen, { onlocked: vi.fn() });
    render(Toasts);
    await settle();
    await fireEvent.click(screen.getByTestId('nav-settings'));
    await settle();
    await fireEvent.click(screen.getByTestId('sync-now'));
    await settle();
    expect(screen.getByTestId('sync-sign-in-dialog')).toBeTruthy();
    expect(toastTexts().some((t) => t.includes('Sign in to sync again'))).toBe(false);
  });
});

describe('conflict copies', () => {
  const COPY: ConflictCopy = {
    id: hexId(7),
    title: 'Bank (conflict copy from Laptop)',
    originalId: hexId(3),
    originalTitle: 'Bank',
    device: 'Laptop',
    updatedAt: 1_760_000_000,
  };

  async function review() {
    const fake = installFake();
    fake.handle('sync_status', () => syncStatus({ conflicts: 1 }));
    fake.handle('sync_conflicts', () => [COPY]);
    fake.handle('get_item', ({ id }) =>
      id === COPY.id ? details(7, { title: COPY.title, username: 'new-user' }) : details(3, { title: 'Bank', username: 'old-user' }),
    );
    fake.handle('sync_resolve_conflict', () => null);
    render(SyncAccountSection);
    await settle();
    const row = screen.getByTestId('sync-conflict');
    expect(within(row).getByTestId('sync-conflict-title').textContent).toBe(COPY.title);
    expect(within(row).getByTestId('sync-conflict-original').textContent).toBe('Bank');
    expect(within(row).getByTestId('sync-conflict-device').textContent).toBe('Laptop');
    await fireEvent.click(within(row).getByTestId('sync-conflict-review'));
    await settle();
    return fake;
  }

  it('Review shows both versions side by side and marks what differs', async () => {
    const fake = await review();
    expect(fake.callsTo('get_item')).toEqual([{ id: COPY.id }, { id: hexId(3) }]);
    const dialog = screen.getByTestId('sync-conflict-dialog');
    const username = within(dialog)
      .getAllByTestId('sync-conflict-row')
      .find((r) => r.textContent?.startsWith('Username'))!;
    expect(username.dataset['differs']).toBe('true');
    expect(within(username).getByTestId('sync-conflict-copy-value').textContent).toBe('new-user');
    expect(within(username).getByTestId('sync-conflict-original-value').textContent).toBe('old-user');
    // No secret: a protected field is only "hidden".
    expect(dialog.textContent).not.toContain('secret-');
    // The copy's title is compared without the mark sync added to it.
    const title = within(dialog)
      .getAllByTestId('sync-conflict-row')
      .find((r) => r.textContent?.startsWith('Title'))!;
    expect(within(title).getByTestId('sync-conflict-copy-value').textContent).toBe('Bank');
    expect(title.dataset['differs']).toBe('false');
  });

  it.each([
    ['sync-keep-copy', 'copy'],
    ['sync-keep-original', 'original'],
  ] as const)('%s resolves with keep %s', async (testId, keep) => {
    const fake = await review();
    fake.handle('sync_conflicts', () => []);
    await fireEvent.click(screen.getByTestId(testId));
    await settle();
    expect(fake.callsTo('sync_resolve_conflict')).toEqual([{ id: COPY.id, keep }]);
    expect(screen.queryByTestId('sync-conflict-dialog')).toBeNull();
    expect(screen.getByTestId('sync-conflicts-none')).toBeTruthy();
  });
});

describe('the sign-in dialog', () => {
  it('asks for the 2FA code when the account has one and retries with it', async () => {
    const fake = installFake();
    fake.handle('sync_sign_in', ({ totp }) => {
      if (totp === null) {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { kind: 'totp_required', message: 'Enter the code from your authenticator app.' };
      }
      return syncStatus();
    });
    const onclose = vi.fn();
    render(SyncSignInDialog, { onclose });
    expect(screen.queryByTestId('sync-sign-in-totp')).toBeNull();
    await type('sync-sign-in-password', 'the vault password');
    await fireEvent.click(screen.getByTestId('sync-sign-in-submit'));
    await settle();
    expect(screen.getByTestId('sync-sign-in-totp')).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByTestId('sync-sign-in-totp'));
    expect(screen.queryByTestId('sync-sign-in-error')).toBeNull();
    expect(onclose).not.toHaveBeenCalled();
    await type('sync-sign-in-totp', '492039');
    await fireEvent.click(screen.getByTestId('sync-sign-in-submit'));
    await settle();
    expect(fake.callsTo('sync_sign_in')).toEqual([
      { password: 'the vault password', totp: null },
      { password: 'the vault password', totp: '492039' },
    ]);
    expect(onclose).toHaveBeenCalledOnce();
  });

  it('says a wrong password in the dialog', async () => {
    const fake = installFake();
    fake.fail('sync_sign_in', 'wrong_password', 'The master password is wrong.');
    const onclose = vi.fn();
    render(SyncSignInDialog, { onclose });
    await type('sync-sign-in-password', 'nope');
    await fireEvent.click(screen.getByTestId('sync-sign-in-submit'));
    await settle();
    expect(screen.getByTestId('sync-sign-in-error').textContent).toBe('The master password is wrong.');
    expect(onclose).not.toHaveBeenCalled();
  });

  it('opens once on sync-sign-in-needed, however often Rust says so, and Esc closes it', async () => {
    const fake = installFake();
    render(MainScreen, { onlocked: vi.fn() });
    await settle();
    expect(screen.queryByTestId('sync-sign-in-dialog')).toBeNull();
    fake.emit('sync-sign-in-needed', null);
    await settle();
    fake.emit('sync-sign-in-needed', null);
    await settle();
    expect(screen.getAllByTestId('sync-sign-in-dialog')).toHaveLength(1);
    await type('sync-sign-in-password', 'typed');
    fake.emit('sync-sign-in-needed', null);
    await settle();
    expect(screen.getByTestId<HTMLInputElement>('sync-sign-in-password').value).toBe('typed');
    await fireEvent.keyDown(screen.getByTestId('sync-sign-in-dialog'), { key: 'Escape' });
    expect(screen.queryByTestId('sync-sign-in-dialog')).toBeNull();
  });

  it('keeps Tab inside the dialog', async () => {
    installFake();
    render(SyncSignInDialog, { onclose: vi.fn() });
    await type('sync-sign-in-password', 'x');
    const dialog = screen.getByTestId('sync-sign-in-dialog');
    const submit = screen.getByTestId('sync-sign-in-submit');
    submit.focus();
    await fireEvent.keyDown(dialog, { key: 'Tab' });
    expect(document.activeElement).toBe(screen.getByTestId('sync-sign-in-dialog-close'));
    await fireEvent.keyDown(dialog, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(submit);
  });
});

describe('the status line', () => {
  const CASES: [SyncStateName, Partial<SyncStatus>, RegExp][] = [
    ['idle', { lastSyncAt: NOW - 125 }, /^Synced 2 min ago$/],
    ['idle', { lastSyncAt: NOW - 10, pending: 3 }, /^3 changes waiting$/],
    ['idle', { lastSyncAt: null }, /^Not synced yet$/],
    ['syncing', {}, /^Syncing…$/],
    ['offline', { nextAttemptAt: NOW + 40 }, /^Offline — retrying in \d+ s$/],
    ['error', { nextAttemptAt: NOW + 300, message: 'The server answered 500.' }, /^Sync failed — retrying in 5 min$/],
    ['sign_in', {}, /^Sign in to sync$/],
    ['hostile', { message: 'A forged key.' }, /^Server problem — see Settings$/],
  ];

  it.each(CASES)('renders %s (%o)', async (state, over, text) => {
    const fake = installFake();
    fake.handle('sync_status', () => syncStatus({ state, ...over }));
    render(SyncStatusLine, { onopen: vi.fn() });
    await settle();
    const line = screen.getByTestId('sync-status-line');
    expect(line.dataset['state']).toBe(state);
    expect(line.textContent?.trim()).toMatch(text);
  });

  it('words each state as Settings does', () => {
    expect(statusLine(syncStatus({ state: 'offline', nextAttemptAt: 1040 }), 1000)).toBe('Offline — retrying in 40 s');
    expect(statusLine(syncStatus({ state: 'idle', lastSyncAt: 1000 - 3 * 3600 }), 1000)).toBe('Synced 3 h ago');
    expect(statusLine(syncStatus({ state: 'idle', pending: 1 }), 1000)).toBe('1 change waiting');
    expect(statusLine(syncStatus({ state: 'idle', conflicts: 2, lastSyncAt: 990 }), 1000)).toBe('2 conflicts to review');
  });

  it('is hidden without a sync account and follows sync-status events', async () => {
    const fake = installFake();
    fake.handle('sync_status', () => null);
    render(SyncStatusLine, { onopen: vi.fn() });
    await settle();
    expect(screen.queryByTestId('sync-status-line')).toBeNull();
    fake.emit('sync-status', syncStatus({ state: 'syncing' }));
    await settle();
    expect(screen.getByTestId('sync-status-line').dataset['state']).toBe('syncing');
  });

  it('a click opens Settings at the sync account', async () => {
    installFake();
    render(MainScreen, { onlocked: vi.fn() });
    await settle();
    await fireEvent.click(screen.getByTestId('sync-status-line'));
    await settle();
    expect(screen.getByTestId('settings-screen')).toBeTruthy();
    expect(document.activeElement?.id).toBe('sync-section-title');
  });
});

describe('joining an account on this computer', () => {
  function firstRun() {
    const fake = installFake();
    fake.handle('app_state', () => ({
      state: 'no_vault',
      vaultPath: null,
      defaultVaultPath: '/home/me/vault.tessera',
      version: '0.1.0',
      rollback: null,
    }));
    return fake;
  }

  it('from first run: reads the key from the kit file, asks for the 2FA code, shows the recovery code, then opens the vault', async () => {
    const fake = firstRun();
    fake.handle('sync_read_kit_file', () => KIT.secretKey);
    fake.handle('sync_join', ({ totp }) => {
      if (totp === null) {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { kind: 'totp_required', message: 'Enter the code from your authenticator app.' };
      }
      return { recoveryCode: CODE };
    });
    render(App);
    await settle();
    await fireEvent.click(screen.getByTestId('first-run-join-tab'));
    expect(screen.getByTestId<HTMLInputElement>('sync-join-path').value).toBe('/home/me/vault.tessera');
    await type('sync-join-server', 'https://sync.example.org');
    await type('sync-join-email', 'me@example.org');
    await fireEvent.click(screen.getByTestId('sync-join-read-kit'));
    await settle();
    expect(screen.getByTestId<HTMLInputElement>('sync-join-secret-key').value).toBe(KIT.secretKey);
    await type('sync-join-password', 'the account password');
    expect(screen.queryByTestId('sync-join-totp')).toBeNull();
    await fireEvent.click(screen.getByTestId('sync-join-submit'));
    await settle();
    expect(screen.getByTestId('sync-join-totp')).toBeTruthy();
    expect(screen.queryByTestId('sync-join-error')).toBeNull();
    await type('sync-join-totp', '123456');
    await fireEvent.click(screen.getByTestId('sync-join-submit'));
    await settle();
    expect(fake.callsTo('sync_join')).toEqual([
      { path: '/home/me/vault.tessera', server: 'https://sync.example.org', email: 'me@example.org', secretKey: KIT.secretKey, password: 'the account password', totp: null },
      { path: '/home/me/vault.tessera', server: 'https://sync.example.org', email: 'me@example.org', secretKey: KIT.secretKey, password: 'the account password', totp: '123456' },
    ]);
    expect(screen.getByTestId('recovery-code').textContent).toBe(CODE.replace(/-/g, ''));
    await fireEvent.click(screen.getByTestId('recovery-code-saved'));
    await type('recovery-confirm-input', '4567');
    await fireEvent.click(screen.getByTestId('recovery-confirm-submit'));
    await settle();
    expect(screen.getByTestId('main-screen')).toBeTruthy();
    expect(document.body.innerHTML).not.toContain(KIT.secretKey);
  });

  it('from the lock screen: the link opens the join form, which picks where the vault goes and shows errors as their message', async () => {
    const fake = installFake();
    fake.handle('app_state', () => ({
      state: 'locked',
      vaultPath: '/v/vault.tessera',
      defaultVaultPath: '/v/vault.tessera',
      version: '0.1.0',
      rollback: null,
    }));
    fake.handle('pick_vault_path', () => '/v/synced.tessera');
    fake.fail('sync_join', 'io', 'The sync server could not be reached.');
    render(App);
    await settle();
    await fireEvent.click(screen.getByTestId('unlock-join-sync'));
    expect(screen.getByTestId('sync-join-screen')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('sync-join-choose-path'));
    await settle();
    expect(fake.callsTo('pick_vault_path')).toEqual([{ mode: 'create' }]);
    expect(screen.getByTestId<HTMLInputElement>('sync-join-path').value).toBe('/v/synced.tessera');
    await type('sync-join-server', 'https://sync.example.org');
    await type('sync-join-email', 'me@example.org');
    await type('sync-join-secret-key', `  ${KIT.secretKey}\n`);
    await type('sync-join-password', 'pw');
    await fireEvent.click(screen.getByTestId('sync-join-submit'));
    await settle();
    expect(fake.callsTo('sync_join')[0]?.secretKey).toBe(KIT.secretKey);
    expect(screen.getByTestId('sync-join-error').textContent).toBe('The sync server could not be reached.');
  });
});

describe('the Emergency Kit page alone', () => {
  it('says why when the kit cannot be read', async () => {
    const fake = installFake();
    fake.fail('sync_kit', 'locked', 'The vault is locked.');
    render(EmergencyKit, { onclose: vi.fn() });
    await settle();
    expect(screen.getByTestId('kit-error').textContent).toBe('The vault is locked.');
    expect(screen.getByTestId<HTMLButtonElement>('kit-print').disabled).toBe(true);
  });
});
