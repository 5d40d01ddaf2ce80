import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { ItemDraft, ShareInfo } from '../src/api';
import IdentityCard from '../src/components/IdentityCard.svelte';
import ItemEditor from '../src/components/ItemEditor.svelte';
import ItemView from '../src/components/ItemView.svelte';
import MainScreen from '../src/components/MainScreen.svelte';
import ShareInviteDialog from '../src/components/ShareInviteDialog.svelte';
import ShareMembersDialog from '../src/components/ShareMembersDialog.svelte';
import Toasts from '../src/components/Toasts.svelte';
import { EditorSession } from '../src/lib/editorSession.svelte';
import { details, FINGERPRINT, hexId, installFake, settle, summary } from './fakeTauri';

const BOB = '99999 88888 77777 66666 55555 44444 33333 22222';

const FAMILY: ShareInfo = { id: 'a'.repeat(32), name: 'Family', role: 'manage', members: 2, pending: false };
const WORK: ShareInfo = { id: 'b'.repeat(32), name: 'Work', role: 'read', members: 5, pending: false };
const INVITE: ShareInfo = { id: 'c'.repeat(32), name: 'Climbing', role: 'write', members: 2, pending: true };

function withShares(itemCount = 6) {
  const fake = installFake(itemCount);
  fake.items = fake.items.map((s, i) => (i % 2 === 0 ? { ...s, share: 'Family' } : s));
  fake.handle('share_list', () => [FAMILY, WORK, INVITE]);
  return fake;
}

async function renderMain(itemCount = 6) {
  const fake = withShares(itemCount);
  render(MainScreen, { onlocked: vi.fn() });
  render(Toasts);
  await settle();
  return fake;
}

describe('the sidebar’s shares', () => {
  it('lists the shares and the invitations waiting', async () => {
    await renderMain();
    const filters = screen.getAllByTestId('share-filter').map((b) => b.dataset['share']);
    expect(filters).toEqual(['Family', 'Work']);
    const invitation = screen.getByTestId('share-invitation');
    expect(invitation.textContent).toContain('Climbing');
    expect(within(invitation).getByTestId('share-accept')).toBeTruthy();
    expect(within(invitation).getByTestId('share-decline')).toBeTruthy();
  });

  it('without a sync account it says sharing needs one, and asks no server', async () => {
    const fake = withShares();
    fake.handle('sync_status', () => null);
    render(MainScreen, { onlocked: vi.fn() });
    await settle();
    expect(screen.getByTestId('shares-unlinked').textContent).toContain('needs a sync account');
    expect(fake.callsTo('share_list')).toHaveLength(0);
    expect(screen.queryByTestId('share-new')).toBeNull();
  });

  it('a click on a share shows only its items, and All items shows everything again', async () => {
    const fake = await renderMain(6);
    expect(screen.getByTestId('item-list').dataset['total']).toBe('6');
    await fireEvent.click(screen.getAllByTestId('share-filter')[0]!);
    await settle();
    expect(fake.callsTo('search_items').at(-1)?.share).toBe('Family');
    expect(screen.getByTestId('item-list').dataset['total']).toBe('3');
    expect(screen.getAllByTestId('share-filter')[0]!.getAttribute('aria-current')).toBe('page');
    await fireEvent.click(screen.getByTestId('nav-items'));
    await settle();
    expect(fake.callsTo('search_items').at(-1)?.share).toBeUndefined();
    expect(screen.getByTestId('item-list').dataset['total']).toBe('6');
  });

  it('shared items carry the share’s mark in the list', async () => {
    await renderMain(4);
    const rows = screen.getAllByTestId('item-row');
    expect(within(rows[0]!).getByTestId('share-chip').dataset['share']).toBe('Family');
    expect(within(rows[1]!).queryByTestId('share-chip')).toBeNull();
  });

  it('Accept shows who invited and their fingerprint before joining', async () => {
    const fake = await renderMain();
    fake.handle('share_invitation', ({ id }) => ({
      id,
      name: 'Climbing',
      role: 'write',
      members: 2,
      inviter: { email: 'bob@example.org', role: 'manage', fingerprint: BOB, verified: false },
    }));
    fake.handle('share_accept', () => ({ share: { ...INVITE, pending: false }, pulled: 3 }));
    await fireEvent.click(screen.getByTestId('share-accept'));
    await settle();
    const dialog = screen.getByTestId('share-invitation-dialog');
    expect(fake.callsTo('share_accept')).toHaveLength(0);
    expect(within(dialog).getByTestId('share-inviter').textContent).toBe('bob@example.org');
    expect(within(dialog).getByTestId('fingerprint-digits').textContent).toContain('99999');
    expect(within(dialog).getByTestId('fingerprint-unverified').textContent).toContain('Not verified');
    await fireEvent.click(within(dialog).getByTestId('share-join'));
    await settle();
    expect(fake.callsTo('share_accept')).toEqual([{ id: INVITE.id }]);
    expect(screen.queryByTestId('share-invitation-dialog')).toBeNull();
    expect(screen.getAllByTestId('toast').some((t) => t.textContent?.includes('Joined “Climbing” as write; 3 items'))).toBe(true);
  });

  it('Decline asks first, then sends a decline', async () => {
    const fake = await renderMain();
    fake.handle('share_decline', () => 'Climbing');
    await fireEvent.click(screen.getByTestId('share-decline'));
    expect(fake.callsTo('share_decline')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(fake.callsTo('share_decline')).toEqual([{ id: INVITE.id }]);
  });

  it('New share… creates one with its name and policy', async () => {
    const fake = await renderMain();
    fake.handle('share_create', ({ name }) => ({ ...FAMILY, id: 'd'.repeat(32), name }));
    await fireEvent.click(screen.getByTestId('share-new'));
    await fireEvent.input(screen.getByTestId('share-create-name'), { target: { value: 'Parents' } });
    await fireEvent.click(screen.getByTestId('share-create-require-verified'));
    await fireEvent.click(screen.getByTestId('share-create-submit'));
    await settle();
    expect(fake.callsTo('share_create')).toEqual([{ name: 'Parents', requireVerified: true }]);
  });

  it('what a hostile server did is a warning about its data, not a plain error', async () => {
    const fake = withShares();
    fake.fail(
      'share_list',
      'hostile',
      "The server's data failed verification, nothing was applied: share Family: membership record 2 is out of place.",
    );
    render(MainScreen, { onlocked: vi.fn() });
    await settle();
    const problem = screen.getByTestId('shares-error');
    expect(problem.dataset['kind']).toBe('hostile');
    expect(problem.getAttribute('role')).toBe('alert');
    expect(problem.textContent).toContain('Warning');
  });

  it('a hostile answer to a dialog’s command is shown as a warning in it', async () => {
    const fake = withShares();
    fake.fail('share_invite', 'hostile', 'The key the server gives for bob@example.org changed since it was pinned.');
    render(ShareInviteDialog, { share: 'Family', onclose: vi.fn() });
    await fireEvent.input(screen.getByTestId('share-invite-email'), { target: { value: 'bob@example.org' } });
    await fireEvent.click(screen.getByTestId('share-invite-submit'));
    await settle();
    const warning = screen.getByTestId('share-warning');
    expect(warning.textContent).toContain("the server's data failed verification");
    expect(warning.textContent).toContain('changed since it was pinned');
  });
});

describe('the invite dialog', () => {
  it('invites with role read by default and shows the invitee’s fingerprint, not verified', async () => {
    const fake = installFake();
    fake.handle('share_invite', ({ email, role }) => ({ email, role, fingerprint: BOB, verified: false }));
    fake.handle('identity_verify', ({ email, fingerprint }) => ({ email, fingerprint }));
    render(ShareInviteDialog, { share: 'Family', onclose: vi.fn() });
    expect(screen.getByTestId<HTMLSelectElement>('share-invite-role').value).toBe('read');
    await fireEvent.input(screen.getByTestId('share-invite-email'), { target: { value: ' bob@example.org ' } });
    await fireEvent.click(screen.getByTestId('share-invite-submit'));
    await settle();
    expect(fake.callsTo('share_invite')).toEqual([{ name: 'Family', email: 'bob@example.org', role: 'read' }]);
    const result = screen.getByTestId('share-invite-result');
    expect(screen.getByTestId('fingerprint-digits').textContent?.replace(/\s/g, '')).toBe(BOB.replace(/\s/g, ''));
    expect(screen.getByTestId('fingerprint-unverified').textContent).toBe('Not verified — compare with them');
    // After comparing out of band: marked verified with the digits shown.
    await fireEvent.click(screen.getByTestId('share-invite-mark-verified'));
    await settle();
    expect(fake.callsTo('identity_verify')).toEqual([{ email: 'bob@example.org', fingerprint: BOB }]);
    expect(result.dataset['verified']).toBe('true');
    expect(screen.getByTestId('fingerprint-verified')).toBeTruthy();
  });

  it('a chosen role goes with the invitation; a verified invitee shows Verified', async () => {
    const fake = installFake();
    fake.handle('share_invite', ({ email, role }) => ({ email, role, fingerprint: BOB, verified: true }));
    render(ShareInviteDialog, { share: 'Family', onclose: vi.fn() });
    await fireEvent.input(screen.getByTestId('share-invite-email'), { target: { value: 'bob@example.org' } });
    await fireEvent.change(screen.getByTestId('share-invite-role'), { target: { value: 'manage' } });
    await fireEvent.click(screen.getByTestId('share-invite-submit'));
    await settle();
    expect(fake.callsTo('share_invite')[0]?.role).toBe('manage');
    expect(screen.getByTestId('fingerprint-verified')).toBeTruthy();
    expect(screen.queryByTestId('share-invite-mark-verified')).toBeNull();
  });

  it('a refused invitation shows the library’s message as it is', async () => {
    const fake = installFake();
    fake.fail('share_invite', 'invalid', 'Share "Family" gives its key only to verified people.');
    render(ShareInviteDialog, { share: 'Family', onclose: vi.fn() });
    await fireEvent.input(screen.getByTestId('share-invite-email'), { target: { value: 'bob@example.org' } });
    await fireEvent.click(screen.getByTestId('share-invite-submit'));
    await settle();
    expect(screen.getByTestId('share-error').textContent).toBe('Share "Family" gives its key only to verified people.');
  });
});

describe('the members dialog', () => {
  function members() {
    const fake = installFake();
    fake.handle('share_members', () => [
      { email: 'bob@example.org', role: 'write', fingerprint: BOB, verified: false },
      { email: 'me@example.org', role: 'manage', fingerprint: FINGERPRINT, verified: true },
    ]);
    fake.handle('share_remove', () => null);
    return fake;
  }

  it('shows each member’s role, fingerprint and whether it is verified', async () => {
    members();
    render(ShareMembersDialog, { share: FAMILY, onclose: vi.fn(), onchanged: vi.fn() });
    await settle();
    const rows = screen.getAllByTestId('share-member');
    expect(rows.map((r) => [r.dataset['email'], r.dataset['role'], r.dataset['verified']])).toEqual([
      ['bob@example.org', 'write', 'false'],
      ['me@example.org', 'manage', 'true'],
    ]);
    expect(within(rows[0]!).getByTestId('fingerprint-unverified')).toBeTruthy();
    expect(within(rows[0]!).getByTestId('fingerprint-digits').textContent).toContain('99999');
    // No Remove next to oneself.
    expect(within(rows[1]!).queryByTestId('share-member-remove')).toBeNull();
  });

  it('Remove says the share gets a new key, and removes only after confirming', async () => {
    const fake = members();
    const onchanged = vi.fn();
    render(ShareMembersDialog, { share: FAMILY, onclose: vi.fn(), onchanged });
    render(Toasts);
    await settle();
    await fireEvent.click(screen.getByTestId('share-member-remove'));
    expect(screen.getByTestId('confirm-dialog').textContent).toContain('new key');
    expect(fake.callsTo('share_remove')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(fake.callsTo('share_remove')).toEqual([{ name: 'Family', email: 'bob@example.org' }]);
    expect(onchanged).toHaveBeenCalled();
  });

  it('only a manager may invite and remove', async () => {
    members();
    render(ShareMembersDialog, { share: WORK, onclose: vi.fn(), onchanged: vi.fn() });
    await settle();
    expect(screen.queryByTestId('share-member-remove')).toBeNull();
    expect(screen.queryByTestId('share-members-invite')).toBeNull();
    expect(screen.getByTestId('share-leave')).toBeTruthy();
  });
});

describe('the item view and editor', () => {
  it('the view marks a shared item with its share', async () => {
    const fake = installFake();
    fake.handle('get_item', ({ id }) => details(parseInt(id, 16), { share: 'Family' }));
    render(ItemView, { id: hexId(3), onedit: vi.fn(), ontrash: vi.fn(), onhistory: vi.fn(), onchanged: vi.fn() });
    await settle();
    expect(screen.getByTestId('share-chip').textContent).toContain('Family');
  });

  it('the view of a personal item has no mark', async () => {
    installFake();
    render(ItemView, { id: hexId(3), onedit: vi.fn(), ontrash: vi.fn(), onhistory: vi.fn(), onchanged: vi.fn() });
    await settle();
    expect(screen.queryByTestId('share-chip')).toBeNull();
  });

  function draft(): ItemDraft {
    return {
      type: 'login',
      title: 'Netflix',
      username: 'family@example.org',
      password: 'pw',
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

  async function editor() {
    const fake = withShares();
    fake.handle('get_item_for_edit', ({ id }) => ({ id, revision: 3, draft: draft(), attachments: [] }));
    fake.handle('update_item', ({ id }) => details(parseInt(id, 16)));
    fake.handle('item_set_share', ({ share }) => ({ share, synced: true, message: null }));
    const session = new EditorSession();
    await session.openExisting(hexId(2));
    const onsaved = vi.fn();
    render(ItemEditor, { session, onsaved, onclosed: vi.fn() });
    await settle();
    return { fake, onsaved };
  }

  it('offers Personal and the shares this account may write to', async () => {
    await editor();
    const options = [...screen.getByTestId<HTMLSelectElement>('editor-share').options].map((o) => o.textContent);
    expect(options).toEqual(['Personal (only you)', 'Family']);
  });

  it('saving with another share moves the item there', async () => {
    const { fake, onsaved } = await editor();
    await fireEvent.change(screen.getByTestId('editor-share'), { target: { value: 'Family' } });
    await fireEvent.click(screen.getByTestId('editor-save'));
    await settle();
    expect(fake.callsTo('update_item')).toHaveLength(1);
    expect(fake.callsTo('item_set_share')).toEqual([{ id: hexId(2), share: 'Family' }]);
    expect(onsaved.mock.calls[0]?.[0]).toMatchObject({ share: 'Family' });
  });

  it('saving without changing the share does not move it', async () => {
    const { fake } = await editor();
    await fireEvent.click(screen.getByTestId('editor-save'));
    await settle();
    expect(fake.callsTo('item_set_share')).toHaveLength(0);
  });

  it('without a sync account the editor offers no share', async () => {
    const fake = installFake();
    fake.fail('share_list', 'io', 'This vault is not linked to a sync account.');
    fake.handle('get_item_for_edit', ({ id }) => ({ id, revision: 3, draft: draft(), attachments: [] }));
    const session = new EditorSession();
    await session.openExisting(hexId(2));
    render(ItemEditor, { session, onsaved: vi.fn(), onclosed: vi.fn() });
    await settle();
    expect(screen.queryByTestId('editor-share')).toBeNull();
  });
});

describe('the identity card', () => {
  it('shows the fingerprint and its QR code', async () => {
    installFake();
    render(IdentityCard);
    await settle();
    expect(screen.getByTestId('fingerprint-digits').textContent?.replace(/\s/g, '')).toBe(FINGERPRINT.replace(/\s/g, ''));
    const qr = screen.getByTestId<HTMLImageElement>('identity-qr');
    expect(qr.src.startsWith('data:image/svg+xml')).toBe(true);
    expect(decodeURIComponent(qr.src)).toContain('<svg');
  });

  it('Verify someone sends their email and the digits, once all 40 are in', async () => {
    const fake = installFake();
    fake.handle('identity_verify', ({ email, fingerprint }) => ({ email, fingerprint }));
    render(IdentityCard);
    render(Toasts);
    await settle();
    const submit = screen.getByTestId<HTMLButtonElement>('identity-verify-submit');
    await fireEvent.input(screen.getByTestId('identity-verify-email'), { target: { value: 'bob@example.org' } });
    await fireEvent.input(screen.getByTestId('identity-verify-fingerprint'), { target: { value: '99999 88888' } });
    expect(submit.disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('identity-verify-fingerprint'), { target: { value: BOB } });
    expect(submit.disabled).toBe(false);
    await fireEvent.click(submit);
    await settle();
    expect(fake.callsTo('identity_verify')).toEqual([{ email: 'bob@example.org', fingerprint: BOB }]);
    expect(screen.getAllByTestId('toast').some((t) => t.textContent?.includes('Verified bob@example.org'))).toBe(true);
  });

  it('a fingerprint that is not theirs is a warning about the server', async () => {
    const fake = installFake();
    fake.fail('identity_verify', 'hostile', 'The key the server gives for bob@example.org has fingerprint 1…, not the one you were given.');
    render(IdentityCard);
    await settle();
    await fireEvent.input(screen.getByTestId('identity-verify-email'), { target: { value: 'bob@example.org' } });
    await fireEvent.input(screen.getByTestId('identity-verify-fingerprint'), { target: { value: BOB } });
    await fireEvent.click(screen.getByTestId('identity-verify-submit'));
    await settle();
    expect(screen.getByTestId('share-warning').textContent).toContain('not the one you were given');
  });
});

describe('toasts', () => {
  it('show a hostile error as a warning', async () => {
    const { showError } = await import('../src/lib/toasts.svelte');
    render(Toasts);
    showError({ kind: 'hostile', message: 'The key the server gives for bob@example.org changed.' });
    await settle();
    const toast = screen.getByTestId('toast');
    expect(toast.dataset['kind']).toBe('warning');
    expect(toast.textContent).toContain("the server's data failed verification");
  });
});

// The list's mark comes from the summary: a summary without a share has none.
it('a summary from Rust carries its share', () => {
  expect(summary(1, { share: 'Family' }).share).toBe('Family');
});
