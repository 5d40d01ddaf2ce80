import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
