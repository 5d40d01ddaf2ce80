import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import IdentityCard from '../src/components/IdentityCard.svelte';
import ShareInviteDialog from '../src/components/ShareInviteDialog.svelte';
import { installFake, settle } from './fakeTauri';

const BOB = '99999 88888 77777 66666 55555 44444 33333 22222';
const SERVER_SWAPPED =
  'The key the server gives for bob@example.org has fingerprint 11111 …, not the one you were given: it was not marked verified (the server may have substituted it).';

function scanArea() {
  return within(screen.getByTestId('identity-scan'));
}

describe('Settings → Verify someone → Scan their QR code', () => {
  it('from the screen verifies whoever’s code it is when no email is entered', async () => {
    const fake = installFake();
    fake.handle('identity_scan_screen', () => ({ outcome: 'verified', email: 'bob@example.org', fingerprint: BOB }));
    render(IdentityCard);
    await settle();
    await fireEvent.click(scanArea().getByTestId('identity-scan-screen'));
    await settle();
    expect(fake.callsTo('identity_scan_screen')).toEqual([{ email: null }]);
    const result = scanArea().getByTestId('identity-scan-result');
    expect(result.dataset['email']).toBe('bob@example.org');
    expect(within(result).getByTestId('fingerprint-verified').textContent).toContain('Verified');
    expect(within(result).getByTestId('fingerprint-digits').textContent?.replace(/\s/g, '')).toBe(BOB.replace(/\s/g, ''));
  });

  it('asks for the email entered, and reads the picture file picked', async () => {
    const fake = installFake();
    fake.handle('pick_qr_image', () => '/home/me/Pictures/bob.png');
    fake.handle('identity_scan_file', ({ email }) => ({ outcome: 'verified', email: email ?? '', fingerprint: BOB }));
    render(IdentityCard);
    await settle();
    await fireEvent.input(screen.getByTestId('identity-verify-email'), { target: { value: ' bob@example.org ' } });
    await fireEvent.click(scanArea().getByTestId('identity-scan-file'));
    await settle();
    expect(fake.callsTo('identity_scan_file')).toEqual([{ path: '/home/me/Pictures/bob.png', email: 'bob@example.org' }]);
    expect(scanArea().getByTestId('identity-scan-result').dataset['email']).toBe('bob@example.org');
  });

  it('a cancelled file picker scans nothing', async () => {
    const fake = installFake();
    fake.handle('pick_qr_image', () => null);
    render(IdentityCard);
    await settle();
    await fireEvent.click(scanArea().getByTestId('identity-scan-file'));
    await settle();
    expect(fake.callsTo('identity_scan_file')).toHaveLength(0);
    expect(scanArea().queryByTestId('identity-scan-result')).toBeNull();
  });

  it('codes of several people: a choice, then the chosen person’s code is scanned again', async () => {
    const fake = installFake();
    fake.handle('identity_scan_screen', ({ email }) =>
      email === null
        ? { outcome: 'choose', emails: ['bob@example.org', 'carol@example.org'] }
        : { outcome: 'verified', email, fingerprint: BOB },
    );
    render(IdentityCard);
    await settle();
    await fireEvent.click(scanArea().getByTestId('identity-scan-screen'));
    await settle();
    const choices = scanArea().getAllByTestId('identity-scan-choice');
    expect(choices.map((c) => c.dataset['email'])).toEqual(['bob@example.org', 'carol@example.org']);
    expect(scanArea().queryByTestId('identity-scan-result')).toBeNull();
    await fireEvent.click(choices[1]!);
    await settle();
    expect(fake.callsTo('identity_scan_screen')).toEqual([{ email: null }, { email: 'carol@example.org' }]);
    expect(scanArea().getByTestId('identity-scan-result').dataset['email']).toBe('carol@example.org');
    expect(scanArea().queryByTestId('identity-scan-choices')).toBeNull();
  });

  it('a code whose fingerprint is not the server’s key is a warning, never verified', async () => {
    const fake = installFake();
    fake.fail('identity_scan_screen', 'hostile', SERVER_SWAPPED);
    render(IdentityCard);
    await settle();
    await fireEvent.click(scanArea().getByTestId('identity-scan-screen'));
    await settle();
    const warning = scanArea().getByTestId('share-warning');
    expect(warning.getAttribute('role')).toBe('alert');
    expect(warning.textContent).toContain("the server's data failed verification");
    expect(warning.textContent).toContain('not the one you were given');
    expect(scanArea().queryByTestId('identity-scan-result')).toBeNull();
    expect(scanArea().queryByTestId('fingerprint-verified')).toBeNull();
  });

  it('a TOTP or other QR code says it is not an identity code', async () => {
    const fake = installFake();
    fake.fail(
      'identity_scan_screen',
      'invalid',
      "This is not a Tessera identity code: ask them for the QR code in their app's Settings → Sharing identity.",
    );
    render(IdentityCard);
    await settle();
    await fireEvent.click(scanArea().getByTestId('identity-scan-screen'));
    await settle();
    expect(scanArea().getByTestId('share-error').textContent).toContain('not a Tessera identity code');
    expect(scanArea().queryByTestId('share-warning')).toBeNull();
  });
});

describe('the invite dialog’s Scan their QR code', () => {
  async function invited() {
    const fake = installFake();
    fake.handle('share_invite', ({ email, role }) => ({ email, role, fingerprint: BOB, verified: false }));
    render(ShareInviteDialog, { share: 'Family', onclose: vi.fn() });
    await fireEvent.input(screen.getByTestId('share-invite-email'), { target: { value: 'bob@example.org' } });
    await fireEvent.click(screen.getByTestId('share-invite-submit'));
    await settle();
    return fake;
  }

  it('scans for the invitee and marks them verified', async () => {
    const fake = await invited();
    fake.handle('identity_scan_screen', ({ email }) => ({ outcome: 'verified', email: email ?? '', fingerprint: BOB }));
    await fireEvent.click(scanArea().getByTestId('identity-scan-screen'));
    await settle();
    expect(fake.callsTo('identity_scan_screen')).toEqual([{ email: 'bob@example.org' }]);
    expect(screen.getByTestId('share-invite-result').dataset['verified']).toBe('true');
    expect(screen.getByTestId('fingerprint-verified')).toBeTruthy();
    expect(screen.queryByTestId('share-invite-mark-verified')).toBeNull();
  });

  it('a code that does not match stays unverified, with the warning', async () => {
    const fake = await invited();
    fake.fail('identity_scan_file', 'hostile', SERVER_SWAPPED);
    fake.handle('pick_qr_image', () => '/tmp/bob.png');
    await fireEvent.click(scanArea().getByTestId('identity-scan-file'));
    await settle();
    expect(fake.callsTo('identity_scan_file')).toEqual([{ path: '/tmp/bob.png', email: 'bob@example.org' }]);
    expect(screen.getByTestId('share-invite-result').dataset['verified']).toBe('false');
    expect(scanArea().getByTestId('share-warning').textContent).toContain('not the one you were given');
    expect(screen.getByTestId('fingerprint-unverified')).toBeTruthy();
  });
});
