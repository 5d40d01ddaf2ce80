import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { BrowserPrompt } from '../src/api';
import BrowserPromptDialog from '../src/components/BrowserPromptDialog.svelte';
import Toasts from '../src/components/Toasts.svelte';
import { hexId, installFake, settle } from './fakeTauri';

const CONNECT: BrowserPrompt = { kind: 'connect', id: 1, fingerprint: 'A1B2-C3D4-E5F6' };

function access(id: number, items = 1): BrowserPrompt {
  return {
    kind: 'access',
    id,
    host: 'mail.example.org',
    connection: 'Firefox',
    items: Array.from({ length: items }, (_, i) => ({ id: hexId(i + 1), title: `Mail ${i + 1}`, username: `me${i + 1}@example.org` })),
  };
}

/** Mounts the dialog with `waiting` already queued in Rust. */
async function mount(waiting: BrowserPrompt[] = []) {
  const fake = installFake();
  fake.handle('browser_prompts', () => waiting);
  fake.handle('browser_answer', () => true);
  render(BrowserPromptDialog);
  render(Toasts);
  await settle();
  return fake;
}

function pressEscape() {
  return fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Escape', bubbles: true });
}

describe('BrowserPromptDialog: connecting a browser', () => {
  it('shows the questions Rust already holds when it mounts late, as a labelled modal dialog', async () => {
    await mount([CONNECT]);
    const dialog = screen.getByTestId('browser-prompt');
    expect(dialog.getAttribute('role')).toBe('dialog');
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    const title = document.getElementById(dialog.getAttribute('aria-labelledby') ?? '');
    expect(title?.textContent).toBe('A browser wants to connect to Tessera');
    expect(dialog.textContent).toContain('A1B2-C3D4-E5F6');
    expect(dialog.textContent).toContain('KeePassXC-Browser');
  });

  it('approving sends the name the user typed', async () => {
    const fake = await mount([CONNECT]);
    const name = screen.getByTestId<HTMLInputElement>('browser-connect-name');
    expect(name.value).toBe('Firefox');
    expect(document.activeElement).toBe(name);
    await fireEvent.input(name, { target: { value: '  Work laptop ' } });
    await fireEvent.click(screen.getByTestId('browser-connect-approve'));
    await settle();
    expect(fake.callsTo('browser_answer')).toEqual([{ id: 1, answer: { kind: 'connect', name: 'Work laptop' } }]);
    expect(screen.queryByTestId('browser-prompt')).toBeNull();
  });

  it('refuses an empty name', async () => {
    const fake = await mount([CONNECT]);
    await fireEvent.input(screen.getByTestId('browser-connect-name'), { target: { value: '   ' } });
    const approve = screen.getByTestId<HTMLButtonElement>('browser-connect-approve');
    expect(approve.disabled).toBe(true);
    await fireEvent.submit(approve.form!);
    await settle();
    expect(fake.callsTo('browser_answer')).toHaveLength(0);
  });

  it('Deny sends no name, and so does Esc', async () => {
    const fake = await mount([CONNECT, { ...CONNECT, id: 2 }]);
    await fireEvent.click(screen.getByTestId('browser-connect-deny'));
    await settle();
    expect(screen.getByTestId('browser-prompt').dataset['id']).toBe('2');
    await pressEscape();
    await settle();
    expect(fake.callsTo('browser_answer')).toEqual([
      { id: 1, answer: { kind: 'connect', name: null } },
      { id: 2, answer: { kind: 'connect', name: null } },
    ]);
    expect(screen.queryByTestId('browser-prompt')).toBeNull();
  });
});

describe('BrowserPromptDialog: a site asks for logins', () => {
  it('names the host, the item and the connection; "Allow once" has the focus', async () => {
    const fake = await mount();
    fake.emit('browser-prompt', access(7));
    await settle();
    expect(screen.getByTestId('browser-access-host').textContent).toBe('mail.example.org');
    expect(document.getElementById('browser-prompt-title')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'Allow mail.example.org to use “Mail 1”?',
    );
    expect(screen.getAllByTestId('browser-access-item').map((r) => r.textContent?.trim())).toEqual(['Mail 1 — me1@example.org']);
    expect(screen.getByTestId('browser-prompt').textContent).toContain('“Firefox”');
    expect(document.activeElement).toBe(screen.getByTestId('browser-access-once'));
  });

  it('lists several logins', async () => {
    const fake = await mount();
    fake.emit('browser-prompt', access(7, 3));
    await settle();
    expect(document.getElementById('browser-prompt-title')?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'Allow mail.example.org to use 3 logins?',
    );
    const rows = screen.getAllByTestId('browser-access-item');
    expect(rows.map((r) => r.dataset['id'])).toEqual([hexId(1), hexId(2), hexId(3)]);
    expect(rows[2]?.textContent).toContain('me3@example.org');
  });

  it.each([
    ['browser-access-once', 'once'],
    ['browser-access-always', 'always'],
    ['browser-access-deny', 'deny'],
  ] as const)('%s answers %s', async (testId, decision) => {
    const fake = await mount([access(3)]);
    await fireEvent.click(screen.getByTestId(testId));
    await settle();
    expect(fake.callsTo('browser_answer')).toEqual([{ id: 3, answer: { kind: 'access', decision } }]);
    expect(screen.queryByTestId('browser-prompt')).toBeNull();
  });

  it('Esc dismisses without deciding', async () => {
    const fake = await mount([access(3)]);
    await pressEscape();
    await settle();
    expect(fake.callsTo('browser_answer')).toEqual([{ id: 3, answer: { kind: 'access', decision: 'dismiss' } }]);
  });

  it('keeps Tab inside the dialog', async () => {
    await mount([access(3)]);
    const once = screen.getByTestId('browser-access-once');
    const deny = screen.getByTestId('browser-access-deny');
    await fireEvent.keyDown(once, { key: 'Tab' });
    expect(document.activeElement).toBe(deny);
    await fireEvent.keyDown(deny, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(once);
  });
});

describe('BrowserPromptDialog: the queue', () => {
  it('removes the shown question when Rust closes it, and shows the next', async () => {
    const fake = await mount([CONNECT]);
    fake.emit('browser-prompt', access(2));
    await settle();
    expect(screen.getByTestId('browser-prompt').dataset['kind']).toBe('connect');
    expect(screen.getByTestId('browser-prompt').textContent).toContain('1 more request');
    fake.emit('browser-prompt-closed', { id: 1 });
    await settle();
    expect(screen.getByTestId('browser-prompt').dataset['kind']).toBe('access');
    fake.emit('browser-prompt-closed', { id: 2 });
    await settle();
    expect(screen.queryByTestId('browser-prompt')).toBeNull();
    expect(fake.callsTo('browser_answer')).toHaveLength(0);
  });

  it('does not bring back a question that ended while the list was on its way', async () => {
    const fake = installFake();
    let reply: (list: BrowserPrompt[]) => void = () => {};
    fake.handle('browser_prompts', () => new Promise<BrowserPrompt[]>((r) => (reply = r)));
    render(BrowserPromptDialog);
    await settle();
    fake.emit('browser-prompt-closed', { id: 1 });
    reply([CONNECT]);
    await settle();
    expect(screen.queryByTestId('browser-prompt')).toBeNull();
  });

  it('drops every question when the vault locks', async () => {
    const fake = await mount([CONNECT, access(2)]);
    fake.emit('vault-locked', { reason: 'idle', renew: false });
    await settle();
    expect(screen.queryByTestId('browser-prompt')).toBeNull();
    expect(document.body.textContent).not.toContain('Mail 1');
  });

  it('says so when the question had already ended', async () => {
    const fake = await mount([access(4)]);
    fake.handle('browser_answer', () => false);
    await fireEvent.click(screen.getByTestId('browser-access-once'));
    await settle();
    expect(screen.queryByTestId('browser-prompt')).toBeNull();
    expect(screen.getByTestId('toast').textContent).toContain('already ended');
  });

  it('gives the focus back when the last question goes', async () => {
    const fake = installFake();
    fake.handle('browser_prompts', () => []);
    const before = document.createElement('button');
    document.body.append(before);
    before.focus();
    render(BrowserPromptDialog);
    await settle();
    fake.emit('browser-prompt', access(5));
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId('browser-access-once'));
    fake.emit('browser-prompt-closed', { id: 5 });
    await settle();
    expect(document.activeElement).toBe(before);
    before.remove();
  });
});
