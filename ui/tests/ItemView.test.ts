import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ItemDetails } from '../src/api';
import ItemView from '../src/components/ItemView.svelte';
import { details, hexId, installFake, settle } from './fakeTauri';

function props(id = hexId(4)) {
  return { id, onedit: vi.fn(), ontrash: vi.fn(), onhistory: vi.fn(), onchanged: vi.fn() };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ItemView', () => {
  it('shows the item without any secret until one is revealed', async () => {
    const fake = installFake();
    render(ItemView, props());
    await settle();
    expect(screen.getByTestId('item-view-title').textContent).toBe('Item 000004');
    expect(screen.getByTestId('item-username').textContent).toBe('user4@example.org');
    expect(screen.queryByTestId('revealed-password')).toBeNull();
    expect(document.body.innerHTML).not.toContain('secret-');
    expect(fake.commandNames).not.toContain('reveal_field');
  });

  it('says when an item is never filled in the browser', async () => {
    const fake = installFake();
    render(ItemView, props());
    await settle();
    expect(screen.queryByTestId('item-never-autofill')).toBeNull();
    fake.handle('get_item', ({ id }) => details(parseInt(id, 16), { neverAutofill: true }));
    render(ItemView, props(hexId(5)));
    await settle();
    expect(screen.getByTestId('item-never-autofill').textContent).toBe('Never filled in the browser');
  });

  it('reveals a password on request and forgets it on hide', async () => {
    const fake = installFake();
    render(ItemView, props());
    await settle();
    await fireEvent.click(screen.getByTestId('reveal-password'));
    await settle();
    expect(fake.callsTo('reveal_field')).toEqual([{ id: hexId(4), field: { kind: 'password' } }]);
    expect(screen.getByTestId('revealed-password').textContent).toBe('secret-password');
    await fireEvent.click(screen.getByTestId('reveal-password'));
    expect(screen.queryByTestId('revealed-password')).toBeNull();
    expect(document.body.innerHTML).not.toContain('secret-password');
  });

  it('reveals protected custom fields and notes one at a time', async () => {
    const fake = installFake();
    render(ItemView, props());
    await settle();
    await fireEvent.click(screen.getByTestId('reveal-field'));
    await fireEvent.click(screen.getByTestId('reveal-notes'));
    await settle();
    expect(fake.callsTo('reveal_field').map((c) => c.field)).toEqual([{ kind: 'custom', name: 'PIN' }, { kind: 'notes' }]);
    expect(screen.getByTestId('revealed-field').textContent).toBe('secret-custom');
    expect(screen.getByTestId('revealed-notes').textContent).toBe('secret-notes');
  });

  it('forgets revealed values when another item is shown', async () => {
    installFake();
    const view = render(ItemView, props());
    await settle();
    await fireEvent.click(screen.getByTestId('reveal-password'));
    await settle();
    await view.rerender({ ...props(hexId(6)) });
    await settle();
    expect(screen.getByTestId('item-view-title').textContent).toBe('Item 000006');
    expect(screen.queryByTestId('revealed-password')).toBeNull();
  });

  it('copies every kind of field through Rust', async () => {
    const fake = installFake();
    render(ItemView, props());
    await settle();
    await fireEvent.click(screen.getByTestId('copy-username'));
    await fireEvent.click(screen.getByTestId('copy-password'));
    await fireEvent.click(screen.getByTestId('copy-totp'));
    await fireEvent.click(screen.getByTestId('copy-url-0'));
    await fireEvent.click(screen.getAllByTestId('copy-field')[0]!);
    await fireEvent.click(screen.getByTestId('copy-notes'));
    await settle();
    expect(fake.callsTo('copy_field').map((c) => c.field)).toEqual([
      { kind: 'username' },
      { kind: 'password' },
      { kind: 'totp' },
      { kind: 'url', index: 0 },
      { kind: 'custom', name: 'PIN' },
      { kind: 'notes' },
    ]);
  });

  it('opens the website through Rust and saves attachments through Rust', async () => {
    const fake = installFake();
    fake.handle('open_url', () => null).handle('save_attachment', () => true);
    render(ItemView, props());
    await settle();
    await fireEvent.click(screen.getByTestId('open-url-0'));
    await fireEvent.click(screen.getByTestId('save-attachment'));
    await settle();
    expect(fake.callsTo('open_url')).toEqual([{ id: hexId(4), index: 0 }]);
    expect(fake.callsTo('save_attachment')).toEqual([{ id: hexId(4), name: 'key.pem' }]);
  });

  it('shows the live TOTP code and counts down, asking Rust again when it expires', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const fake = installFake();
    let n = 0;
    fake.handle('totp_code', () => ({ code: n++ === 0 ? '492039' : '118274', period: 30, remaining: 2 }));
    render(ItemView, props());
    await settle();
    expect(screen.getByTestId('totp-code').dataset['code']).toBe('492039');
    expect(screen.getByTestId('totp-code').textContent).toBe('492 039');
    expect(screen.getByTestId('totp-remaining').textContent).toBe('2s');
    vi.advanceTimersByTime(1000);
    await settle();
    expect(screen.getByTestId('totp-remaining').textContent).toBe('1s');
    vi.advanceTimersByTime(1000);
    await settle();
    expect(fake.callsTo('totp_code')).toHaveLength(2);
    expect(screen.getByTestId('totp-code').dataset['code']).toBe('118274');
  });
});

describe('ItemView: SSH keys', () => {
  const PUBLIC = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxvbmcgYmFzZTY0IHRleHQgdGhhdCB3cmFwcw me@laptop';

  function sshKey(over: Partial<ItemDetails> = {}): ItemDetails {
    return details(4, {
      type: 'ssh-key',
      title: 'GitHub key',
      username: '',
      urls: [],
      hasPassword: false,
      hasNotes: false,
      otp: null,
      attachments: [],
      fields: [
        { name: 'Private key', protected: true, value: null },
        { name: 'Public key', protected: false, value: PUBLIC },
        { name: 'Fingerprint', protected: false, value: 'SHA256:abcDEF123' },
        { name: 'Comment', protected: false, value: 'me@laptop' },
      ],
      sshAgent: true,
      agentApproval: 'once-per-unlock',
      ...over,
    });
  }

  it('shows the public key and fingerprint once, and the agent setting in words', async () => {
    const fake = installFake();
    fake.handle('get_item', () => sshKey());
    render(ItemView, props());
    await settle();
    expect(screen.getByTestId('item-view').textContent).toContain('SSH key');
    expect(screen.getByTestId('ssh-public-key').textContent).toBe(PUBLIC);
    expect(screen.getByTestId('ssh-public-key').classList.contains('mono')).toBe(true);
    expect(screen.getByTestId('ssh-fingerprint').textContent).toBe('SHA256:abcDEF123');
    const badge = screen.getByTestId('item-ssh-agent');
    expect(badge.dataset['on']).toBe('true');
    expect(badge.textContent?.trim()).toBe('In the SSH agent');
    expect(screen.getByTestId('item-view').textContent).toContain('Asks once per unlock');
    // Not again in the generic field list; the private key and comment are there.
    expect(screen.getAllByTestId('copy-field').map((b) => b.dataset['field'])).toEqual(['Private key', 'Comment']);
    expect(document.body.textContent?.split(PUBLIC)).toHaveLength(2);
    expect(screen.queryByTestId('item-never-for-agents')).toBeNull();
  });

  it('copies the public key through Rust and reveals the private key only on request', async () => {
    const fake = installFake();
    fake.handle('get_item', () => sshKey());
    render(ItemView, props());
    await settle();
    await fireEvent.click(screen.getByTestId('copy-ssh-public-key'));
    await settle();
    expect(fake.callsTo('copy_field')).toEqual([{ id: hexId(4), field: { kind: 'custom', name: 'Public key' } }]);
    expect(fake.commandNames).not.toContain('reveal_field');
    await fireEvent.click(screen.getByTestId('reveal-field'));
    await settle();
    expect(fake.callsTo('reveal_field')).toEqual([{ id: hexId(4), field: { kind: 'custom', name: 'Private key' } }]);
    expect(screen.getByTestId('revealed-field').dataset['field']).toBe('Private key');
  });

  it('says when a key is not in the agent, and when an item is never given to AI agents', async () => {
    const fake = installFake();
    fake.handle('get_item', () => sshKey({ sshAgent: false, agentApproval: 'never', neverForAgents: true }));
    render(ItemView, props());
    await settle();
    const badge = screen.getByTestId('item-ssh-agent');
    expect(badge.dataset['on']).toBe('false');
    expect(badge.textContent?.trim()).toBe('Not in the SSH agent');
    expect(screen.getByTestId('item-never-for-agents').textContent).toBe('Never given to AI agents');
  });

  it('shows no SSH rows for other types, but the AI badge for any', async () => {
    const fake = installFake();
    fake.handle('get_item', ({ id }) => details(parseInt(id, 16), { neverForAgents: true }));
    render(ItemView, props());
    await settle();
    expect(screen.queryByTestId('ssh-public-key')).toBeNull();
    expect(screen.queryByTestId('item-ssh-agent')).toBeNull();
    expect(screen.getByTestId('item-never-for-agents')).toBeTruthy();
  });
});
