import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import TpmUnreachableBanner from '../src/components/TpmUnreachableBanner.svelte';
import UnlockFactorsSection from '../src/components/UnlockFactorsSection.svelte';
import type { AppState, RollbackProtection } from '../src/api';
import { installFake, settle } from './fakeTauri';

const REASON = 'cannot reach the TPM at swtpm:host=127.0.0.1,port=2321 (connection refused)';

function unlocked(rollback: RollbackProtection | null): AppState {
  return { state: 'unlocked', vaultPath: '/v.tessera', defaultVaultPath: '/v.tessera', version: '0.1.0', rollback };
}

describe('TpmUnreachableBanner', () => {
  it('says the TPM is unreachable, that edits are refused, why, and the way out', async () => {
    const fake = installFake();
    fake.handle('app_state', () => unlocked({ counter: 0x013a5300, tpmUnreachable: REASON }));
    render(TpmUnreachableBanner, { onlocked: vi.fn() });
    await settle();
    const banner = screen.getByTestId('tpm-unreachable-banner');
    expect(banner.getAttribute('role')).toBe('alert');
    expect(banner.textContent).toContain('TPM unreachable');
    expect(banner.textContent).toContain('every edit is refused until the TPM answers');
    expect(screen.getByTestId('tpm-unreachable-reason').textContent).toContain(REASON);
    expect(banner.textContent).toContain('tessera restore-check');
    expect(banner.textContent).toContain('Settings → Unlock factors');
  });

  it('is not shown when the TPM answered, the vault is not bound, or the state cannot be read', async () => {
    for (const rollback of [{ counter: 0x013a5300, tpmUnreachable: null }, { counter: null, tpmUnreachable: null }, null]) {
      const fake = installFake();
      fake.handle('app_state', () => unlocked(rollback));
      const { unmount } = render(TpmUnreachableBanner, { onlocked: vi.fn() });
      await settle();
      expect(screen.queryByTestId('tpm-unreachable-banner')).toBeNull();
      unmount();
    }
    const fake = installFake();
    fake.handle('app_state', () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw { kind: 'internal', message: 'No.' };
    });
    render(TpmUnreachableBanner, { onlocked: vi.fn() });
    await settle();
    expect(screen.queryByTestId('tpm-unreachable-banner')).toBeNull();
  });

  it('locks the vault to retry once the TPM is back', async () => {
    const fake = installFake();
    fake.handle('app_state', () => unlocked({ counter: 0x013a5300, tpmUnreachable: REASON }));
    const onlocked = vi.fn();
    render(TpmUnreachableBanner, { onlocked });
    await settle();
    await fireEvent.click(screen.getByTestId('tpm-unreachable-retry'));
    await settle();
    expect(fake.callsTo('lock')).toHaveLength(1);
    expect(onlocked).toHaveBeenCalledOnce();
  });
});

describe('UnlockFactorsSection rollback protection', () => {
  function slotsFake(rollback: RollbackProtection) {
    const fake = installFake();
    fake.handle('list_slots', () => [
      { id: 1, kind: 'password', label: 'Master password', description: 'password', createdAt: 1, lastUsedAt: null },
      { id: 3, kind: 'tpm', label: 'TPM', description: 'tpm', createdAt: 1, lastUsedAt: null },
    ]);
    fake.handle('app_state', () => unlocked(rollback));
    return fake;
  }

  it('names the TPM counter the vault is bound to, as the CLI prints it', async () => {
    slotsFake({ counter: 0x013a5300, tpmUnreachable: null });
    render(UnlockFactorsSection);
    await settle();
    const line = screen.getByTestId('rollback-protection');
    expect(line.textContent).toContain('Rollback protection: TPM counter 0x013a5300');
    expect(line.getAttribute('data-counter')).toBe(String(0x013a5300));
  });

  it('says off when the vault is not bound, and that edits wait for an unreachable TPM', async () => {
    slotsFake({ counter: null, tpmUnreachable: null });
    const { unmount } = render(UnlockFactorsSection);
    await settle();
    expect(screen.getByTestId('rollback-protection').textContent).toContain('Rollback protection: off');
    unmount();
    slotsFake({ counter: 0x013a5300, tpmUnreachable: REASON });
    render(UnlockFactorsSection);
    await settle();
    expect(screen.getByTestId('rollback-protection').textContent).toContain('edits are refused until it answers');
  });
});
