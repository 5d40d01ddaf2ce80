import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { hexId, installFake, settle } from './fakeTauri';

const CODE = 'ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567';

function withState(state: 'no_vault' | 'locked' | 'unlocked', items = 20) {
  const fake = installFake(items);
  fake.handle('app_state', () => ({
    state,
    vaultPath: state === 'no_vault' ? null : '/v/vault.tessera',
    defaultVaultPath: '/home/me/vault.tessera',
    version: '0.1.0',
    rollback: null,
  }));
  return fake;
}

describe('App: first run', () => {
  it('creates a vault, shows the recovery code once, and needs its last group to go on', async () => {
    const fake = withState('no_vault');
    fake.handle('create_vault', () => ({ recoveryCode: CODE }));
    render(App);
    await settle();

    expect(screen.getByTestId<HTMLInputElement>('first-run-path').value).toBe('/home/me/vault.tessera');
    const create = screen.getByTestId<HTMLButtonElement>('first-run-create');
    await fireEvent.input(screen.getByTestId('first-run-password'), { target: { value: 'a long and strong passphrase' } });
    await fireEvent.input(screen.getByTestId('first-run-password-confirm'), { target: { value: 'a long and strong passphrase!' } });
    await new Promise((r) => setTimeout(r, 200));
    await settle();
    expect(screen.getByTestId('first-run-mismatch')).toBeTruthy();
    expect(create.disabled).toBe(true);
    expect(screen.getByTestId('password-strength').dataset['score']).toBe('4');

    await fireEvent.input(screen.getByTestId('first-run-password-confirm'), { target: { value: 'a long and strong passphrase' } });
    expect(create.disabled).toBe(false);
    await fireEvent.click(create);
    await settle();
    expect(fake.callsTo('create_vault')).toEqual([{ path: '/home/me/vault.tessera', password: 'a long and strong passphrase' }]);

    expect(screen.getByTestId('recovery-code').textContent).toBe(CODE.replace(/-/g, ''));
    await fireEvent.click(screen.getByTestId('recovery-code-saved'));
    expect(screen.queryByTestId('recovery-code')).toBeNull();

    await fireEvent.input(screen.getByTestId('recovery-confirm-input'), { target: { value: 'ABCD' } });
    await fireEvent.click(screen.getByTestId('recovery-confirm-submit'));
    expect(screen.getByTestId('recovery-confirm-error')).toBeTruthy();
    expect(screen.queryByTestId('main-screen')).toBeNull();

    await fireEvent.input(screen.getByTestId('recovery-confirm-input'), { target: { value: '4567' } });
    await fireEvent.click(screen.getByTestId('recovery-confirm-submit'));
    await settle();
    expect(screen.getByTestId('main-screen')).toBeTruthy();
    expect(document.body.innerHTML).not.toContain('4567');
  });

  it('refuses a weak master password', async () => {
    withState('no_vault');
    render(App);
    await settle();
    await fireEvent.input(screen.getByTestId('first-run-password'), { target: { value: 'short' } });
    await fireEvent.input(screen.getByTestId('first-run-password-confirm'), { target: { value: 'short' } });
    await new Promise((r) => setTimeout(r, 200));
    await settle();
    expect(screen.getByTestId<HTMLButtonElement>('first-run-create').disabled).toBe(true);
  });

  it('opens an existing vault and then asks to unlock it', async () => {
    const fake = withState('no_vault');
    fake.handle('pick_vault_path', () => '/data/old.tessera');
    fake.handle('open_vault', ({ path }) => ({ state: 'locked', vaultPath: path, defaultVaultPath: '', version: '0.1.0', rollback: null }));
    render(App);
    await settle();
    await fireEvent.click(screen.getByTestId('first-run-open-tab'));
    await fireEvent.click(screen.getByTestId('first-run-open-choose'));
    await settle();
    expect(screen.getByTestId<HTMLInputElement>('first-run-open-path').value).toBe('/data/old.tessera');
    await fireEvent.click(screen.getByTestId('first-run-open'));
    await settle();
    expect(fake.callsTo('open_vault')).toEqual([{ path: '/data/old.tessera' }]);
    expect(screen.getByTestId('unlock-screen')).toBeTruthy();
  });
});

describe('App: unlock', () => {
  it('unlocks with the master password', async () => {
    const fake = withState('locked');
    fake.handle('unlock', () => ({ state: 'unlocked', vaultPath: '/v/vault.tessera', defaultVaultPath: '', version: '0.1.0', rollback: null }));
    render(App);
    await settle();
    await fireEvent.input(screen.getByTestId('unlock-password'), { target: { value: 'correct horse' } });
    await fireEvent.click(screen.getByTestId('unlock-submit'));
    await settle();
    expect(fake.callsTo('unlock')).toEqual([{ credential: { kind: 'password', password: 'correct horse' } }]);
    expect(screen.getByTestId('main-screen')).toBeTruthy();
    expect(screen.getAllByTestId('item-row').length).toBeGreaterThan(0);
  });

  it('shows a wrong password as a toast message and stays locked', async () => {
    const fake = withState('locked');
    fake.fail('unlock', 'wrong_password', 'The master password is wrong.');
    render(App);
    await settle();
    await fireEvent.input(screen.getByTestId('unlock-password'), { target: { value: 'nope' } });
    await fireEvent.click(screen.getByTestId('unlock-submit'));
    await settle();
    expect(screen.getByTestId('toast').textContent).toContain('The master password is wrong.');
    expect(screen.getByTestId('toast').textContent).not.toMatch(/at \w+ \(|Error:/);
    expect(screen.getByTestId('unlock-screen')).toBeTruthy();
  });

  it('offers one button per hardware factor; TPM and YubiKey ask for a PIN', async () => {
    const fake = withState('locked');
    fake.handle('unlock_factors', () => [
      { slot: 2, kind: 'keyring', label: 'This login', needsPin: false, requiresPassword: false },
      { slot: 3, kind: 'tpm', label: 'Laptop TPM', needsPin: true, requiresPassword: false },
      { slot: 4, kind: 'yubikey', label: 'Blue key', needsPin: true, requiresPassword: true },
    ]);
    fake.fail('unlock', 'factor_unavailable', 'No YubiKey is inserted.');
    render(App);
    await settle();

    await fireEvent.click(screen.getByTestId('unlock-factor-keyring'));
    await settle();
    await fireEvent.click(screen.getByTestId('unlock-factor-tpm'));
    await fireEvent.input(screen.getByTestId('unlock-pin'), { target: { value: '2468' } });
    await fireEvent.click(screen.getByTestId('unlock-pin-submit'));
    await settle();
    // The YubiKey slot is composite: it needs the password typed first.
    await fireEvent.click(screen.getByTestId('unlock-factor-yubikey'));
    expect(screen.getByTestId('unlock-error').textContent).toMatch(/master password/);
    await fireEvent.input(screen.getByTestId('unlock-password'), { target: { value: 'pw' } });
    await fireEvent.click(screen.getByTestId('unlock-factor-yubikey'));
    await fireEvent.input(screen.getByTestId('unlock-pin'), { target: { value: '123456' } });
    await fireEvent.click(screen.getByTestId('unlock-pin-submit'));
    await settle();

    expect(fake.callsTo('unlock').map((c) => c.credential)).toEqual([
      { kind: 'keyring', slot: 2 },
      { kind: 'tpm', slot: 3, pin: '2468', password: null },
      { kind: 'yubikey', slot: 4, pin: '123456', password: 'pw' },
    ]);
    expect(screen.getByTestId<HTMLInputElement>('unlock-pin').value).toBe('');
  });

  it('unlocks with the recovery code', async () => {
    const fake = withState('locked');
    fake.handle('unlock', () => ({ state: 'unlocked', vaultPath: '/v', defaultVaultPath: '', version: '0.1.0', rollback: null }));
    render(App);
    await settle();
    await fireEvent.click(screen.getByTestId('unlock-use-recovery'));
    await fireEvent.input(screen.getByTestId('unlock-recovery-code'), { target: { value: CODE } });
    await fireEvent.click(screen.getByTestId('unlock-recovery-submit'));
    await settle();
    expect(fake.callsTo('unlock')).toEqual([{ credential: { kind: 'recovery', code: CODE } }]);
  });
});

describe('App: locking', () => {
  it('returns to the unlock screen on vault-locked and drops all item state', async () => {
    const fake = withState('unlocked');
    render(App);
    await settle();
    await fireEvent.click(screen.getByTestId('reveal-password'));
    await settle();
    expect(screen.getByTestId('revealed-password')).toBeTruthy();
    expect(document.body.textContent).toContain('Item 000001');

    fake.emit('vault-locked', { reason: 'idle', renew: false });
    await settle();
    expect(screen.getByTestId('unlock-screen')).toBeTruthy();
    expect(screen.queryByTestId('main-screen')).toBeNull();
    expect(document.body.textContent).not.toContain('Item 000001');
    expect(document.body.innerHTML).not.toContain('secret-password');
    // The main screen's listeners went with it.
    expect(fake.listenerCount('vault-changed')).toBe(0);
  });

  it('drops an open editor and its secrets on vault-locked', async () => {
    const fake = withState('unlocked');
    fake.handle('get_item_for_edit', ({ id }) => ({
      id,
      revision: 1,
      attachments: [],
      draft: {
        type: 'login', title: 'T', username: 'u', password: 'editor-secret-pw', urls: [], notes: '', otp: '',
        fields: [], tags: [], folder: '', favourite: false, expiresAt: null, neverAutofill: false,
        neverForAgents: false, sshAgent: false, agentApproval: 'every',
        autoType: { enabled: true, sequence: '', rules: [] },
      },
    }));
    render(App);
    await settle();
    await fireEvent.click(screen.getByTestId('item-edit-button'));
    await settle();
    expect(screen.getByTestId<HTMLInputElement>('editor-password').value).toBe('editor-secret-pw');
    fake.emit('vault-locked', { reason: 'sleep', renew: false });
    await settle();
    expect(screen.queryByTestId('editor')).toBeNull();
    const values = [...document.querySelectorAll('input')].map((i) => i.value);
    expect(values).not.toContain('editor-secret-pw');
    expect(fake.callsTo('get_item_for_edit')).toEqual([{ id: hexId(1) }]);
  });

  it('shows the vault when Rust says it was unlocked elsewhere', async () => {
    const fake = withState('locked');
    render(App);
    await settle();
    fake.emit('vault-unlocked', {});
    await settle();
    expect(screen.getByTestId('main-screen')).toBeTruthy();
  });

  it('the lock button locks', async () => {
    const fake = withState('unlocked');
    render(App);
    await settle();
    await fireEvent.click(screen.getByTestId('lock-button'));
    await settle();
    expect(fake.commandNames).toContain('lock');
    expect(screen.getByTestId('unlock-screen')).toBeTruthy();
  });

  it('shows only a placeholder when Rust replaces the window at lock', async () => {
    const fake = withState('unlocked');
    fake.handle('lock', () => {
      fake.emit('vault-locked', { reason: 'user', renew: true });
      return null;
    });
    render(App);
    await settle();
    await fireEvent.click(screen.getByTestId('lock-button'));
    await settle();
    expect(screen.getByTestId('locking-screen')).toBeTruthy();
    expect(screen.queryByTestId('unlock-screen')).toBeNull();
    expect(screen.queryByTestId('main-screen')).toBeNull();
  });

  it('applies the theme from settings and follows settings-changed', async () => {
    const fake = withState('locked');
    fake.handle('get_settings', () => ({
      autoLockMinutes: 5, lockOnSleep: true, lockOnScreenLock: true, clipboardClearSeconds: 20,
      theme: 'dark', quickAccessShortcut: 'Ctrl+Shift+Space', autoTypeShortcut: 'Ctrl+Alt+A',
      browserIntegration: false, browserAllowHttp: false, browserSaveFolder: 'Browser', sshAgent: true, closeToTray: false,
    }));
    render(App);
    await settle();
    expect(document.documentElement.dataset['theme']).toBe('dark');
    fake.emit('settings-changed', {
      autoLockMinutes: 5, lockOnSleep: true, lockOnScreenLock: true, clipboardClearSeconds: 20,
      theme: 'system', quickAccessShortcut: 'Ctrl+Shift+Space', autoTypeShortcut: 'Ctrl+Alt+A',
      browserIntegration: false, browserAllowHttp: false, browserSaveFolder: 'Browser', sshAgent: true, closeToTray: false,
    });
    expect(document.documentElement.dataset['theme']).toBeUndefined();
  });
});

describe('App: browser questions', () => {
  it('shows a question from the browser over the item list, which then ignores its shortcuts', async () => {
    const fake = withState('unlocked');
    fake.handle('browser_answer', () => true);
    render(App);
    await settle();
    fake.emit('browser-prompt', { kind: 'access', id: 9, host: 'mail.example.org', connection: 'Firefox', items: [{ id: hexId(1), title: 'Mail', username: 'me' }] });
    await settle();
    expect(screen.getByTestId('main-screen')).toBeTruthy();
    expect(screen.getByTestId('browser-prompt')).toBeTruthy();
    await fireEvent.keyDown(document.activeElement ?? document.body, { key: 'l', ctrlKey: true, bubbles: true });
    await settle();
    expect(fake.commandNames).not.toContain('lock');
    await fireEvent.click(screen.getByTestId('browser-access-once'));
    await settle();
    expect(fake.callsTo('browser_answer')).toEqual([{ id: 9, answer: { kind: 'access', decision: 'once' } }]);
    expect(screen.queryByTestId('browser-prompt')).toBeNull();
  });
});

describe('App: agent questions', () => {
  it('shows a signing question over the item list, which then ignores its shortcuts', async () => {
    const fake = withState('unlocked');
    fake.handle('agent_answer', () => true);
    render(App);
    await settle();
    fake.emit('agent-prompt', {
      kind: 'ssh',
      id: 3,
      process: 'ssh git@github.com (pid 4242)',
      key: { id: hexId(1), title: 'GitHub key', fingerprint: 'SHA256:abc' },
    });
    await settle();
    expect(screen.getByTestId('main-screen')).toBeTruthy();
    expect(screen.getByTestId('agent-prompt')).toBeTruthy();
    await fireEvent.keyDown(document.activeElement ?? document.body, { key: 'l', ctrlKey: true, bubbles: true });
    await fireEvent.keyDown(document.activeElement ?? document.body, { key: 'n', ctrlKey: true, bubbles: true });
    await settle();
    expect(fake.commandNames).not.toContain('lock');
    expect(fake.commandNames).not.toContain('new_item_template');
    // Esc denies the question and does nothing else.
    await fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Escape', bubbles: true });
    await settle();
    expect(fake.callsTo('agent_answer')).toEqual([{ id: 3, decision: 'deny' }]);
    expect(screen.queryByTestId('agent-prompt')).toBeNull();
    await fireEvent.keyDown(document.body, { key: 'l', ctrlKey: true, bubbles: true });
    await settle();
    expect(fake.commandNames).toContain('lock');
  });

  it('asks Rust for waiting questions on start', async () => {
    const fake = withState('locked');
    fake.handle('agent_prompts', () => [
      { kind: 'mcp', id: 1, client: 'claude-code', process: 'node', item: { id: hexId(2), title: 'DB' }, field: 'password' },
    ]);
    render(App);
    await settle();
    expect(screen.getByTestId('unlock-screen')).toBeTruthy();
    expect(screen.getByTestId('agent-prompt').dataset['kind']).toBe('mcp');
  });
});

describe('App: idle timer', () => {
  it('tells Rust about activity while unlocked, at most every 30 s, and never while locked', async () => {
    const locked = withState('locked');
    const first = render(App);
    await settle();
    await fireEvent.keyDown(window, { key: 'a' });
    expect(locked.callsTo('user_active')).toHaveLength(0);
    first.unmount();

    const fake = withState('unlocked');
    render(App);
    await settle();
    await fireEvent.pointerMove(window);
    await fireEvent.keyDown(window, { key: 'ArrowDown' });
    await fireEvent.wheel(window);
    await settle();
    expect(fake.callsTo('user_active')).toHaveLength(1);
  });
});
