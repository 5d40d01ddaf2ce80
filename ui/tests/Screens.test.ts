import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import AuditLogScreen from '../src/components/AuditLogScreen.svelte';
import GeneratorPanel from '../src/components/GeneratorPanel.svelte';
import HealthScreen from '../src/components/HealthScreen.svelte';
import HistoryView from '../src/components/HistoryView.svelte';
import SettingsScreen from '../src/components/SettingsScreen.svelte';
import TrashScreen from '../src/components/TrashScreen.svelte';
import type { AgentStatus, BrowserStatus } from '../src/api';
import { details, DEFAULT_SETTINGS, hexId, installFake, settle, summary, syncStatus } from './fakeTauri';

describe('HealthScreen', () => {
  it('lists weak, reused, old and expiring items and opens one', async () => {
    const fake = installFake();
    fake.handle('health_report', () => ({
      weak: [{ id: hexId(1), title: 'Old router', score: 0, warning: 'This is a top-10 common password.' }],
      reused: [{ items: [{ id: hexId(2), title: 'A' }, { id: hexId(3), title: 'B' }] }],
      old: [{ id: hexId(4), title: 'Forum', changedAt: 1_600_000_000, ageDays: 900 }],
      expiring: [{ id: hexId(5), title: 'Visa', expiresAt: 1_700_000_000, expired: true }],
    }));
    const onopen = vi.fn();
    render(HealthScreen, { onopen });
    await settle();
    expect(screen.getByTestId('health-weak').textContent).toContain('top-10 common');
    expect(screen.getByTestId('health-reused').textContent).toContain('Shared by 2');
    expect(screen.getByTestId('health-old').textContent).toContain('900 days');
    expect(screen.getByTestId('health-expiring').textContent).toContain('expired');
    await fireEvent.click(screen.getByText('Forum'));
    expect(onopen).toHaveBeenCalledWith(hexId(4));
  });

  it('shows progress while Rust checks', async () => {
    const fake = installFake();
    let finish: (v: never) => void = () => {};
    fake.handle('health_report', () => new Promise<never>((r) => (finish = r)));
    render(HealthScreen, { onopen: vi.fn() });
    await settle();
    fake.emit('health-progress', { done: 40, total: 100 });
    await settle();
    expect(document.querySelector('progress')?.getAttribute('value')).toBe('40');
    finish({ weak: [], reused: [], old: [], expiring: [] } as never);
    await settle();
    expect(screen.getByText(/No problems found/)).toBeTruthy();
  });
});

describe('TrashScreen', () => {
  function trashFake() {
    const fake = installFake();
    fake.items = [summary(1, { deletedAt: 1_760_000_000 }), summary(2, { deletedAt: 1_760_000_100 }), summary(3)];
    fake.handle('purge_item', ({ id }) => {
      fake.items = fake.items.filter((s) => s.id !== id);
      return null;
    });
    fake.handle('empty_trash', () => 2);
    return fake;
  }

  it('lists only what Rust returns for the trash scope and restores one', async () => {
    const fake = trashFake();
    const onchanged = vi.fn();
    render(TrashScreen, { onchanged });
    await settle();
    expect(fake.callsTo('search_items')[0]).toMatchObject({ scope: 'trash' });
    expect(screen.getAllByTestId('item-row')).toHaveLength(2);
    await fireEvent.click(screen.getByTestId('trash-restore'));
    await settle();
    expect(fake.callsTo('restore_item')).toEqual([{ id: hexId(1) }]);
    expect(onchanged).toHaveBeenCalled();
  });

  it('deletes for good only after confirming', async () => {
    const fake = trashFake();
    render(TrashScreen, { onchanged: vi.fn() });
    await settle();
    await fireEvent.click(screen.getByTestId('trash-purge'));
    expect(screen.getByTestId('confirm-dialog')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('confirm-cancel'));
    expect(fake.callsTo('purge_item')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('trash-purge'));
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(fake.callsTo('purge_item')).toEqual([{ id: hexId(1) }]);
    expect(screen.getAllByTestId('item-row')).toHaveLength(1);
  });

  it('empties the trash after confirming', async () => {
    const fake = trashFake();
    render(TrashScreen, { onchanged: vi.fn() });
    await settle();
    await fireEvent.click(screen.getByTestId('trash-empty'));
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(fake.commandNames).toContain('empty_trash');
  });
});

describe('HistoryView', () => {
  it('lists versions with what changed and restores one after confirming', async () => {
    const fake = installFake();
    fake.handle('item_history', () => [
      { revision: 2, savedAt: 1_750_000_000, title: 'Mail', username: 'me', changed: ['password', 'field:PIN'] },
      { revision: 1, savedAt: 1_740_000_000, title: 'Mail', username: 'me', changed: [] },
    ]);
    fake.handle('restore_version', ({ id }) => details(parseInt(id, 16)));
    const onrestored = vi.fn();
    render(HistoryView, { id: hexId(7), title: 'Mail', onrestored, onclose: vi.fn() });
    await settle();
    const entries = screen.getAllByTestId('history-entry');
    expect(entries).toHaveLength(2);
    expect(entries[0]?.textContent).toContain('password, “PIN”');
    await fireEvent.click(screen.getAllByTestId('history-restore')[1]!);
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(fake.callsTo('restore_version')).toEqual([{ id: hexId(7), revision: 1 }]);
    expect(onrestored).toHaveBeenCalled();
  });
});

describe('AuditLogScreen', () => {
  it('shows the newest entries and loads older ones on request', async () => {
    const fake = installFake();
    fake.handle('audit_log', ({ beforeSeq, limit }) => {
      const top = beforeSeq ?? 301;
      const entries = [];
      for (let seq = top - 1; seq >= Math.max(1, top - limit); seq--) {
        entries.push({ seq, at: 1_700_000_000 + seq, event: 'item_updated', description: `edited entry ${seq}`, itemId: null });
      }
      return { entries, total: 300 };
    });
    render(AuditLogScreen);
    await settle();
    expect(screen.getAllByTestId('audit-entry')).toHaveLength(200);
    expect(screen.getAllByTestId('audit-entry')[0]?.textContent).toContain('edited entry 300');
    await fireEvent.click(screen.getByTestId('audit-more'));
    await settle();
    expect(fake.callsTo('audit_log')).toEqual([
      { beforeSeq: null, limit: 200 },
      { beforeSeq: 101, limit: 200 },
    ]);
    expect(screen.getAllByTestId('audit-entry')).toHaveLength(300);
    expect(screen.queryByTestId('audit-more')).toBeNull();
  });
});

describe('GeneratorPanel', () => {
  it('generates with the chosen options and copies through Rust', async () => {
    const fake = installFake();
    render(GeneratorPanel, {});
    await settle();
    expect(fake.callsTo('generate_password')[0]).toEqual({
      options: { mode: 'password', length: 20, lowercase: true, uppercase: true, digits: true, symbols: true, avoidAmbiguous: false },
    });
    await fireEvent.click(screen.getByTestId('generator-symbols'));
    await fireEvent.change(screen.getByTestId('generator-length'), { target: { value: '32' } });
    await settle();
    expect(fake.callsTo('generate_password').at(-1)?.options).toMatchObject({ length: 32, symbols: false });
    expect(screen.getByTestId('generator-value').textContent).toHaveLength(32);

    await fireEvent.click(screen.getByTestId('generator-mode-passphrase'));
    await settle();
    expect(fake.callsTo('generate_password').at(-1)?.options).toEqual({ mode: 'passphrase', words: 6, separator: '-', capitalize: false });
    expect(screen.getByTestId('generator-value').textContent).toBe('correct-horse-battery-staple');
    await fireEvent.click(screen.getByTestId('generator-copy'));
    await settle();
    expect(fake.callsTo('copy_text')).toEqual([{ text: 'correct-horse-battery-staple' }]);
  });

  it('refuses to generate with no character class', async () => {
    const fake = installFake();
    render(GeneratorPanel, {});
    await settle();
    for (const id of ['generator-lowercase', 'generator-uppercase', 'generator-digits', 'generator-symbols']) {
      await fireEvent.click(screen.getByTestId(id));
    }
    await settle();
    expect(screen.getByRole('alert').textContent).toMatch(/at least one/);
    expect(screen.getByTestId('generator-value').textContent).toBe('');
    // Rust is never asked for a password of no characters.
    for (const { options } of fake.callsTo('generate_password')) {
      expect(options.mode === 'password' && !options.lowercase && !options.uppercase && !options.digits && !options.symbols).toBe(false);
    }
  });
});

describe('SettingsScreen', () => {
  function settingsFake() {
    const fake = installFake();
    fake.handle('list_slots', () => [
      { id: 1, kind: 'password', label: 'Master password', description: 'password (Argon2id m=256 MiB t=3 p=4)', createdAt: 1_700_000_000, lastUsedAt: 1_760_000_000 },
      { id: 2, kind: 'recovery', label: 'Recovery code', description: 'recovery', createdAt: 1_700_000_000, lastUsedAt: null },
    ]);
    fake.handle('sync_status', () => null);
    fake.handle('add_slot', ({ request }) => ({ id: 3, kind: request.factor, label: 'TPM', description: request.factor, createdAt: 1, lastUsedAt: null }));
    fake.handle('remove_slot', () => null);
    fake.handle('browser_status', () => browserStatus(false));
    fake.handle('browser_sites', () => []);
    fake.handle('agent_status', () => agentStatus(true));
    return fake;
  }

  function agentStatus(enabled: boolean, over: Partial<AgentStatus> = {}): AgentStatus {
    return {
      enabled,
      listening: enabled,
      error: null,
      socketPath: '/run/user/1000/tessera/ssh-agent.sock',
      reachable: enabled,
      keys: enabled ? 2 : null,
      exportLine: 'export SSH_AUTH_SOCK="/run/user/1000/tessera/ssh-agent.sock"',
      identityAgentLine: 'IdentityAgent "/run/user/1000/tessera/ssh-agent.sock"',
      environmentUsesTessera: true,
      ...over,
    };
  }

  function browserStatus(enabled: boolean, over: Partial<BrowserStatus> = {}): BrowserStatus {
    return {
      enabled,
      listening: enabled,
      error: null,
      socketPath: '/run/user/1000/tessera-browser.sock',
      connectedHosts: enabled ? 1 : 0,
      browsers: [
        { browser: 'firefox', path: '/home/me/.mozilla/native-messaging-hosts/org.keepassxc.keepassxc_browser.json', installed: enabled, otherHost: '/usr/bin/keepassxc-proxy' },
        { browser: 'chromium', path: '/home/me/.config/chromium/NativeMessagingHosts/org.keepassxc.keepassxc_browser.json', installed: enabled, otherHost: null },
      ],
      connections: [],
      ...over,
    };
  }

  it('saves each change and applies the theme at once', async () => {
    const fake = settingsFake();
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    expect(screen.getByTestId<HTMLInputElement>('settings-clipboard-seconds').value).toBe('20');
    expect(screen.getByTestId('settings-quick-shortcut').textContent).toBe('Ctrl+Shift+Space');
    await fireEvent.change(screen.getByTestId('settings-clipboard-seconds'), { target: { value: '45' } });
    await settle();
    await fireEvent.change(screen.getByTestId('settings-theme'), { target: { value: 'light' } });
    await settle();
    await fireEvent.click(screen.getByTestId('settings-lock-on-sleep'));
    await settle();
    const saves = fake.callsTo('update_settings').map((c) => c.settings);
    expect(saves[0]).toEqual({ ...DEFAULT_SETTINGS, clipboardClearSeconds: 45 });
    expect(saves[1]).toMatchObject({ clipboardClearSeconds: 45, theme: 'light' });
    expect(saves[2]).toMatchObject({ lockOnSleep: false });
    expect(document.documentElement.dataset['theme']).toBe('light');
  });

  it('records a new Quick Access shortcut', async () => {
    const fake = settingsFake();
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    const record = screen.getByTestId('settings-quick-shortcut-record');
    await fireEvent.click(record);
    await fireEvent.keyDown(record, { key: 'k', ctrlKey: true, altKey: true });
    await settle();
    expect(fake.callsTo('update_settings').at(-1)?.settings.quickAccessShortcut).toBe('Ctrl+Alt+K');
  });

  it('lists unlock slots, adds a TPM factor with its PIN, removes one after confirming', async () => {
    const fake = settingsFake();
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    expect(screen.getAllByTestId('slot-row')).toHaveLength(2);
    await fireEvent.click(screen.getByTestId('slot-add'));
    await fireEvent.change(screen.getByTestId('slot-add-factor'), { target: { value: 'tpm' } });
    await fireEvent.input(screen.getByTestId('slot-add-pin'), { target: { value: '9999' } });
    await fireEvent.click(screen.getByTestId('slot-add-submit'));
    await settle();
    expect(fake.callsTo('add_slot')).toEqual([
      { request: { factor: 'tpm', label: null, pin: '9999', alsoRequirePassword: false, password: null, touch: false } },
    ]);
    await fireEvent.click(screen.getAllByTestId('slot-remove')[1]!);
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(fake.callsTo('remove_slot')).toEqual([{ slot: 2 }]);
  });

  it('imports a file Rust picked, asking for its password when it is encrypted', async () => {
    const fake = settingsFake();
    fake.handle('pick_import_file', () => ({ path: '/tmp/db.kdbx', fileName: 'db.kdbx', detectedFormat: 'keepass', needsPassword: true }));
    fake.handle('import_items', () => ({ imported: 42 }));
    const onimported = vi.fn();
    render(SettingsScreen, { onimported });
    await settle();
    await fireEvent.click(screen.getByTestId('import-choose'));
    await settle();
    const submit = screen.getByTestId<HTMLButtonElement>('import-submit');
    expect(submit.disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('import-password'), { target: { value: 'kp' } });
    await fireEvent.input(screen.getByTestId('import-folder'), { target: { value: 'Imported' } });
    await fireEvent.click(submit);
    await settle();
    expect(fake.callsTo('import_items')).toEqual([{ path: '/tmp/db.kdbx', format: 'keepass', password: 'kp', folder: 'Imported' }]);
    expect(onimported).toHaveBeenCalled();
  });

  it('exports encrypted with a password, and plain text only after a warning', async () => {
    const fake = settingsFake();
    fake.handle('export_vault', () => '/home/me/export');
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    await fireEvent.input(screen.getByTestId('export-password'), { target: { value: 'x' } });
    await fireEvent.click(screen.getByTestId('export-submit'));
    await settle();
    expect(fake.callsTo('export_vault')).toHaveLength(0);
    await fireEvent.change(screen.getByTestId('export-format'), { target: { value: 'bitwarden-json' } });
    await fireEvent.click(screen.getByTestId('export-submit'));
    expect(screen.getByTestId('confirm-dialog')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(fake.callsTo('export_vault')).toEqual([{ format: 'bitwarden-json', password: null }]);
  });

  it('shows the sync account when there is one', async () => {
    const fake = settingsFake();
    fake.handle('sync_status', () => syncStatus());
    fake.handle('sync_now', () => syncStatus({ state: 'syncing' }));
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    expect(screen.getByTestId('sync-state').dataset['state']).toBe('idle');
    await fireEvent.click(screen.getByTestId('sync-now'));
    await settle();
    expect(screen.getByTestId('sync-state').dataset['state']).toBe('syncing');
  });

  it('turns browser integration on and shows what Rust reports', async () => {
    const fake = settingsFake();
    let enabled = false;
    fake.handle('update_settings', ({ settings }) => {
      enabled = settings.browserIntegration;
      return settings;
    });
    fake.handle('browser_status', () =>
      browserStatus(enabled, { connections: enabled ? [{ name: 'Firefox', createdAt: 1_700_000_000, lastUsedAt: 1_760_000_000 }] : [] }),
    );
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    const section = screen.getByTestId('settings-browsers');
    expect(section.textContent).toContain('Off');
    const toggle = screen.getByTestId<HTMLInputElement>('browser-integration-toggle');
    expect(toggle.checked).toBe(false);
    const statusCalls = fake.callsTo('browser_status').length;
    await fireEvent.click(toggle);
    await settle();
    expect(fake.callsTo('update_settings').at(-1)?.settings).toEqual({ ...DEFAULT_SETTINGS, browserIntegration: true });
    expect(fake.callsTo('browser_status').length).toBeGreaterThan(statusCalls);
    expect(screen.getByTestId('browser-listening').dataset['listening']).toBe('true');
    expect(screen.getByTestId('browser-connected-hosts').textContent).toBe('1 browser');
    expect(section.textContent).toContain('/run/user/1000/tessera-browser.sock');
    expect(screen.getAllByTestId('browser-other-host')).toHaveLength(1);
    expect(screen.getByTestId('browser-other-host').textContent).toContain('KeePassXC');
    expect(screen.getAllByTestId('browser-connection').map((r) => r.dataset['name'])).toEqual(['Firefox']);
  });

  it('shows why browser integration could not be turned on, and leaves the switch off', async () => {
    const fake = settingsFake();
    fake.fail('update_settings', 'io', 'Cannot open the browser socket: address in use');
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    const toggle = screen.getByTestId<HTMLInputElement>('browser-integration-toggle');
    await fireEvent.click(toggle);
    await settle();
    expect(screen.getByTestId('browser-switch-error').textContent).toBe('Cannot open the browser socket: address in use');
    expect(toggle.checked).toBe(false);
  });

  it('revokes a connected browser only after confirming', async () => {
    const fake = settingsFake();
    let connections = [
      { name: 'Firefox', createdAt: 1_700_000_000, lastUsedAt: 1_760_000_000 },
      { name: 'Work Chrome', createdAt: 1_700_000_000, lastUsedAt: 1_760_000_000 },
    ];
    fake.handle('browser_status', () => browserStatus(true, { connections }));
    fake.handle('browser_revoke', ({ name }) => {
      connections = connections.filter((c) => c.name !== name);
      return null;
    });
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    await fireEvent.click(screen.getAllByTestId('browser-revoke')[1]!);
    await fireEvent.click(screen.getByTestId('confirm-cancel'));
    expect(fake.callsTo('browser_revoke')).toHaveLength(0);
    await fireEvent.click(screen.getAllByTestId('browser-revoke')[1]!);
    expect(screen.getByTestId('confirm-dialog').textContent).toContain('Work Chrome');
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(fake.callsTo('browser_revoke')).toEqual([{ name: 'Work Chrome' }]);
    expect(screen.getAllByTestId('browser-connection').map((r) => r.dataset['name'])).toEqual(['Firefox']);
  });

  it('lists remembered site decisions and forgets one', async () => {
    const fake = settingsFake();
    let sites = [
      { itemId: hexId(1), title: 'Mail', host: 'mail.example.org', allow: true, decidedAt: 1_760_000_000 },
      { itemId: hexId(2), title: 'Bank', host: 'bank.example', allow: false, decidedAt: 1_760_000_000 },
    ];
    fake.handle('browser_sites', () => sites);
    fake.handle('browser_forget_site', ({ itemId, host }) => {
      sites = sites.filter((s) => s.itemId !== itemId || s.host !== host);
      return null;
    });
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    const rows = screen.getAllByTestId('browser-site');
    expect(rows.map((r) => r.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      expect.stringMatching(/^mail\.example\.org → Mail .*Allowed/),
      expect.stringMatching(/^bank\.example → Bank .*Denied/),
    ]);
    await fireEvent.click(screen.getAllByTestId('browser-forget-site')[1]!);
    await settle();
    expect(fake.callsTo('browser_forget_site')).toEqual([{ itemId: hexId(2), host: 'bank.example' }]);
    expect(screen.getAllByTestId('browser-site')).toHaveLength(1);
  });

  it('saves the http and folder options', async () => {
    const fake = settingsFake();
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    await fireEvent.click(screen.getByTestId('browser-allow-http'));
    await settle();
    await fireEvent.change(screen.getByTestId('browser-save-folder'), { target: { value: ' Web/Saved ' } });
    await settle();
    const saves = fake.callsTo('update_settings').map((c) => c.settings);
    expect(saves).toEqual([
      { ...DEFAULT_SETTINGS, browserAllowHttp: true },
      { ...DEFAULT_SETTINGS, browserAllowHttp: true, browserSaveFolder: 'Web/Saved' },
    ]);
  });
  it('shows the SSH agent next to the browsers, with what Rust reports', async () => {
    settingsFake();
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    const section = screen.getByTestId('settings-ssh-agent');
    expect(section.previousElementSibling?.getAttribute('data-testid')).toBe('settings-browsers');
    expect(screen.getByTestId<HTMLInputElement>('ssh-agent-toggle').checked).toBe(true);
    expect(screen.getByTestId('ssh-agent-socket').textContent).toBe('/run/user/1000/tessera/ssh-agent.sock');
    expect(screen.getByTestId('ssh-agent-listening').dataset['listening']).toBe('true');
    expect(screen.getByTestId('ssh-agent-reachable').dataset['reachable']).toBe('true');
    expect(screen.getByTestId('ssh-agent-reachable').textContent?.trim()).toBe('The agent answers');
    expect(screen.getByTestId('ssh-agent-keys').textContent).toBe('2 keys');
    expect(screen.getByTestId('ssh-agent-export-line').tagName).toBe('CODE');
    expect(screen.getByTestId('ssh-agent-export-line').textContent).toBe('export SSH_AUTH_SOCK="/run/user/1000/tessera/ssh-agent.sock"');
    expect(screen.getByTestId('ssh-agent-identity-line').textContent).toBe('IdentityAgent "/run/user/1000/tessera/ssh-agent.sock"');
    expect(screen.queryByTestId('ssh-agent-environment-hint')).toBeNull();
    expect(screen.queryByTestId('ssh-agent-error')).toBeNull();
  });

  it('says "Locked" and "Not reachable" while locked, and hints when the session uses another agent', async () => {
    const fake = settingsFake();
    fake.handle('agent_status', () => agentStatus(true, { listening: false, reachable: false, keys: null, environmentUsesTessera: false }));
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    expect(screen.getByTestId('ssh-agent-keys').textContent).toBe('Locked');
    expect(screen.getByTestId('ssh-agent-listening').dataset['listening']).toBe('false');
    expect(screen.getByTestId('ssh-agent-reachable').dataset['reachable']).toBe('false');
    expect(screen.getByTestId('ssh-agent-reachable').textContent?.trim()).toBe('Not reachable');
    expect(screen.getByTestId('ssh-agent-environment-hint').textContent).toContain('SSH_AUTH_SOCK');
  });

  it('turns the agent off with the whole settings object and asks Rust again', async () => {
    const fake = settingsFake();
    let enabled = true;
    fake.handle('update_settings', ({ settings }) => {
      enabled = settings.sshAgent;
      return settings;
    });
    fake.handle('agent_status', () => agentStatus(enabled));
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    const calls = fake.callsTo('agent_status').length;
    await fireEvent.click(screen.getByTestId('ssh-agent-toggle'));
    await settle();
    expect(fake.callsTo('update_settings').at(-1)?.settings).toEqual({ ...DEFAULT_SETTINGS, sshAgent: false });
    expect(fake.callsTo('agent_status').length).toBeGreaterThan(calls);
    expect(screen.getByTestId('ssh-agent-listening').dataset['listening']).toBe('false');
    expect(screen.getByTestId('ssh-agent-listening').textContent?.trim()).toBe('Off');
  });

  it('shows why the agent could not be switched, and puts the switch back', async () => {
    const fake = settingsFake();
    fake.fail('update_settings', 'io', 'Cannot open the SSH agent socket: address in use');
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    const toggle = screen.getByTestId<HTMLInputElement>('ssh-agent-toggle');
    await fireEvent.click(toggle);
    await settle();
    expect(screen.getByTestId('ssh-agent-error').textContent).toBe('Cannot open the SSH agent socket: address in use');
    expect(toggle.checked).toBe(true);
  });

  it('shows the socket error Rust reports', async () => {
    const fake = settingsFake();
    fake.handle('agent_status', () => agentStatus(true, { listening: false, error: 'Another program holds the socket.' }));
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    expect(screen.getByTestId('ssh-agent-error').textContent).toBe('Another program holds the socket.');
  });

  it('copies the two set-up lines as plain text', async () => {
    const fake = settingsFake();
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    await fireEvent.click(screen.getByTestId('ssh-agent-copy-export'));
    await fireEvent.click(screen.getByTestId('ssh-agent-copy-identity'));
    await settle();
    expect(fake.callsTo('copy_text')).toEqual([
      { text: 'export SSH_AUTH_SOCK="/run/user/1000/tessera/ssh-agent.sock"' },
      { text: 'IdentityAgent "/run/user/1000/tessera/ssh-agent.sock"' },
    ]);
    expect(fake.commandNames).not.toContain('copy_field');
  });

  it('asks Rust again when the vault locks or unlocks and after a signing question', async () => {
    const fake = settingsFake();
    let keys: number | null = 2;
    fake.handle('agent_status', () => agentStatus(true, { keys, listening: keys !== null }));
    render(SettingsScreen, { onimported: vi.fn() });
    await settle();
    const calls = () => fake.callsTo('agent_status').length;
    const first = calls();
    keys = null;
    fake.emit('vault-locked', { reason: 'user', renew: false });
    await settle();
    expect(calls()).toBe(first + 1);
    expect(screen.getByTestId('ssh-agent-keys').textContent).toBe('Locked');
    keys = 3;
    fake.emit('vault-unlocked', {});
    await settle();
    expect(screen.getByTestId('ssh-agent-keys').textContent).toBe('3 keys');
    fake.emit('agent-prompt-closed', { id: 1 });
    await settle();
    expect(calls()).toBe(first + 3);
  });
});
