import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import QuickAccess from '../src/components/QuickAccess.svelte';
import { hexId, installFake, settle } from './fakeTauri';

async function renderQuick(state: 'unlocked' | 'locked' = 'unlocked') {
  const fake = installFake(30);
  fake.handle('app_state', () => ({ state, vaultPath: '/v', defaultVaultPath: '/v', version: '0.1.0', rollback: null }));
  render(QuickAccess);
  await settle();
  return fake;
}

describe('QuickAccess', () => {
  it('searches as you type, a short page only', async () => {
    const fake = await renderQuick();
    const input = screen.getByTestId('quick-search');
    expect(document.activeElement).toBe(input);
    await fireEvent.input(input, { target: { value: 'Item 00001' } });
    await settle();
    expect(fake.callsTo('search_items').at(-1)).toEqual({ query: 'Item 00001', scope: 'live', offset: 0, limit: 20 });
    expect(screen.getAllByTestId('quick-result').map((r) => r.dataset['id'])).toEqual(
      Array.from({ length: 10 }, (_, i) => hexId(10 + i)),
    );
  });

  it('Enter copies the password of the selected result, then hides the window', async () => {
    const fake = await renderQuick();
    const input = screen.getByTestId('quick-search');
    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    await fireEvent.keyDown(input, { key: 'Enter' });
    await settle();
    expect(fake.callsTo('copy_field')).toEqual([{ id: hexId(2), field: { kind: 'password' } }]);
    expect(fake.commandNames.slice(-2)).toEqual(['copy_field', 'quick_access_hide']);
  });

  it('Ctrl+U copies the username and Ctrl+T the one-time code', async () => {
    const fake = await renderQuick();
    const input = screen.getByTestId('quick-search');
    await fireEvent.keyDown(input, { key: 'u', ctrlKey: true });
    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    await fireEvent.keyDown(input, { key: 't', ctrlKey: true });
    await settle();
    expect(fake.callsTo('copy_field')).toEqual([
      { id: hexId(1), field: { kind: 'username' } },
      { id: hexId(2), field: { kind: 'totp' } },
    ]);
  });

  it('Ctrl+T does nothing for an item without a one-time code', async () => {
    const fake = await renderQuick();
    await fireEvent.keyDown(screen.getByTestId('quick-search'), { key: 't', ctrlKey: true });
    await settle();
    expect(fake.callsTo('copy_field')).toHaveLength(0);
  });

  it('Esc hides the window', async () => {
    const fake = await renderQuick();
    await fireEvent.keyDown(screen.getByTestId('quick-search'), { key: 'Escape' });
    await settle();
    expect(fake.commandNames.at(-1)).toBe('quick_access_hide');
  });

  it('starts afresh each time it is shown', async () => {
    const fake = await renderQuick();
    const input = screen.getByTestId<HTMLInputElement>('quick-search');
    await fireEvent.input(input, { target: { value: 'zzz' } });
    await settle();
    fake.emit('quick-access-shown', {});
    await settle();
    expect(input.value).toBe('');
    expect(screen.getAllByTestId('quick-result').length).toBe(20);
  });

  it('says the vault is locked, drops results on lock, and offers the main window', async () => {
    const fake = await renderQuick();
    expect(screen.getAllByTestId('quick-result').length).toBeGreaterThan(0);
    fake.emit('vault-locked', { reason: 'user', renew: false });
    await settle();
    expect(screen.getByTestId('quick-locked')).toBeTruthy();
    expect(screen.queryAllByTestId('quick-result')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('quick-open-main'));
    await settle();
    expect(fake.commandNames).toContain('show_main_window');
    fake.emit('vault-unlocked', {});
    await settle();
    expect(screen.getAllByTestId('quick-result').length).toBeGreaterThan(0);
  });

  it('starts locked when the vault is locked', async () => {
    const fake = await renderQuick('locked');
    expect(screen.getByTestId('quick-locked')).toBeTruthy();
    expect(fake.commandNames).not.toContain('search_items');
  });
});
