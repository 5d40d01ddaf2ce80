import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { AgentPrompt, BrowserPrompt } from '../src/api';
import AgentPromptDialog from '../src/components/AgentPromptDialog.svelte';
import BrowserPromptDialog from '../src/components/BrowserPromptDialog.svelte';
import Toasts from '../src/components/Toasts.svelte';
import { hexId, installFake, settle } from './fakeTauri';

function ssh(id: number): AgentPrompt {
  return {
    kind: 'ssh',
    id,
    process: 'ssh git@github.com (pid 4242) from git push',
    key: { id: hexId(7), title: 'GitHub key', fingerprint: 'SHA256:abcDEF123' },
  };
}

function mcp(id: number, field = 'password'): AgentPrompt {
  return {
    kind: 'mcp',
    id,
    client: 'claude-code',
    process: 'node /usr/lib/claude (pid 77)',
    item: { id: hexId(3), title: 'Staging DB' },
    field,
  };
}

/** Mounts the dialog with `waiting` already queued in Rust. */
async function mount(waiting: AgentPrompt[] = []) {
  const fake = installFake();
  fake.handle('agent_prompts', () => waiting);
  fake.handle('agent_answer', () => true);
  render(AgentPromptDialog);
  render(Toasts);
  await settle();
  return fake;
}

function pressEscape() {
  return fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Escape', bubbles: true });
}

function titleText(): string | undefined {
  const dialog = screen.getByTestId('agent-prompt');
  return document.getElementById(dialog.getAttribute('aria-labelledby') ?? '')?.textContent?.trim();
}

describe('AgentPromptDialog: a program asks the SSH agent to sign', () => {
  it('shows what Rust already holds when it mounts, as a labelled modal dialog with "Allow once" focused', async () => {
    await mount([ssh(1)]);
    const dialog = screen.getByTestId('agent-prompt');
    expect(dialog.getAttribute('role')).toBe('dialog');
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(dialog.dataset['kind']).toBe('ssh');
    expect(dialog.dataset['id']).toBe('1');
    expect(titleText()).toBe('Sign with “GitHub key”?');
    expect(screen.getByTestId('agent-prompt-process').textContent).toBe('ssh git@github.com (pid 4242) from git push');
    expect(screen.getByTestId('agent-prompt-key').dataset['fingerprint']).toBe('SHA256:abcDEF123');
    expect(screen.getByTestId('agent-prompt-key').textContent).toBe('SHA256:abcDEF123');
    expect(screen.getByTestId('agent-allow-session').textContent?.trim()).toBe('Allow for this process');
    expect(document.activeElement).toBe(screen.getByTestId('agent-allow-once'));
  });

  it.each([
    ['agent-allow-once', 'once'],
    ['agent-allow-session', 'session'],
    ['agent-deny', 'deny'],
  ] as const)('%s answers %s', async (testId, decision) => {
    const fake = await mount([ssh(3)]);
    await fireEvent.click(screen.getByTestId(testId));
    await settle();
    expect(fake.callsTo('agent_answer')).toEqual([{ id: 3, decision }]);
    expect(screen.queryByTestId('agent-prompt')).toBeNull();
  });

  it('Esc denies', async () => {
    const fake = await mount([ssh(3)]);
    await pressEscape();
    await settle();
    expect(fake.callsTo('agent_answer')).toEqual([{ id: 3, decision: 'deny' }]);
    expect(screen.queryByTestId('agent-prompt')).toBeNull();
  });

  it('keeps Tab inside the dialog', async () => {
    await mount([ssh(3)]);
    const once = screen.getByTestId('agent-allow-once');
    const deny = screen.getByTestId('agent-deny');
    await fireEvent.keyDown(once, { key: 'Tab' });
    expect(document.activeElement).toBe(deny);
    await fireEvent.keyDown(deny, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(once);
  });
});

describe('AgentPromptDialog: an AI agent asks for a value', () => {
  it('names the agent, the item, the field and the process', async () => {
    const fake = await mount();
    fake.emit('agent-prompt', mcp(5));
    await settle();
    const dialog = screen.getByTestId('agent-prompt');
    expect(dialog.dataset['kind']).toBe('mcp');
    expect(titleText()).toBe('An AI agent asks for a secret');
    expect(screen.getByTestId('agent-prompt-client').textContent).toBe('claude-code');
    expect(screen.getByTestId('agent-prompt-item').textContent).toBe('Staging DB');
    expect(screen.getByTestId('agent-prompt-item').dataset['id']).toBe(hexId(3));
    expect(screen.getByTestId('agent-prompt-field').textContent).toBe('Password');
    expect(screen.getByTestId('agent-prompt-process').textContent).toBe('node /usr/lib/claude (pid 77)');
    expect(screen.getByTestId('agent-allow-session').textContent?.trim()).toBe('Allow for this session');
    expect(document.activeElement).toBe(screen.getByTestId('agent-allow-once'));
  });

  it('shows a custom field by its own name', async () => {
    await mount([mcp(5, 'API token')]);
    expect(screen.getByTestId('agent-prompt-field').textContent).toBe('API token');
  });

  it('"Allow for this session" and Esc answer', async () => {
    const fake = await mount([mcp(5), mcp(6)]);
    await fireEvent.click(screen.getByTestId('agent-allow-session'));
    await settle();
    expect(screen.getByTestId('agent-prompt').dataset['id']).toBe('6');
    expect(document.activeElement).toBe(screen.getByTestId('agent-allow-once'));
    await pressEscape();
    await settle();
    expect(fake.callsTo('agent_answer')).toEqual([
      { id: 5, decision: 'session' },
      { id: 6, decision: 'deny' },
    ]);
  });
});

describe('AgentPromptDialog: the queue', () => {
  it('queues by id, removes the shown question when Rust closes it, and shows the next', async () => {
    const fake = await mount([ssh(2)]);
    fake.emit('agent-prompt', mcp(4));
    fake.emit('agent-prompt', ssh(1));
    fake.emit('agent-prompt', ssh(2));
    await settle();
    expect(screen.getByTestId('agent-prompt').dataset['id']).toBe('1');
    expect(screen.getByTestId('agent-prompt').textContent).toContain('2 more requests');
    fake.emit('agent-prompt-closed', { id: 1 });
    await settle();
    expect(screen.getByTestId('agent-prompt').dataset['id']).toBe('2');
    fake.emit('agent-prompt-closed', { id: 2 });
    await settle();
    expect(screen.getByTestId('agent-prompt').dataset['kind']).toBe('mcp');
    fake.emit('agent-prompt-closed', { id: 4 });
    await settle();
    expect(screen.queryByTestId('agent-prompt')).toBeNull();
    expect(fake.callsTo('agent_answer')).toHaveLength(0);
  });

  it('does not bring back a question that ended while the list was on its way', async () => {
    const fake = installFake();
    let reply: (list: AgentPrompt[]) => void = () => {};
    fake.handle('agent_prompts', () => new Promise<AgentPrompt[]>((r) => (reply = r)));
    render(AgentPromptDialog);
    await settle();
    fake.emit('agent-prompt-closed', { id: 1 });
    reply([ssh(1)]);
    await settle();
    expect(screen.queryByTestId('agent-prompt')).toBeNull();
  });

  it('drops every question when the vault locks', async () => {
    const fake = await mount([ssh(1), mcp(2)]);
    fake.emit('vault-locked', { reason: 'idle', renew: false });
    await settle();
    expect(screen.queryByTestId('agent-prompt')).toBeNull();
    expect(document.body.textContent).not.toContain('GitHub key');
  });

  it('says so when the question had already ended', async () => {
    const fake = await mount([ssh(4)]);
    fake.handle('agent_answer', () => false);
    await fireEvent.click(screen.getByTestId('agent-allow-once'));
    await settle();
    expect(screen.queryByTestId('agent-prompt')).toBeNull();
    expect(screen.getByTestId('toast').textContent).toContain('already ended');
  });

  it('keeps the question when the answer could not be sent', async () => {
    const fake = await mount([ssh(4)]);
    fake.fail('agent_answer', 'internal', 'The agent stopped.');
    await fireEvent.click(screen.getByTestId('agent-allow-once'));
    await settle();
    expect(screen.getByTestId('agent-prompt').dataset['id']).toBe('4');
    expect(screen.getByTestId('toast').textContent).toContain('The agent stopped.');
  });

  it('gives the focus back when the last question goes', async () => {
    const fake = installFake();
    const before = document.createElement('button');
    document.body.append(before);
    before.focus();
    render(AgentPromptDialog);
    await settle();
    fake.emit('agent-prompt', ssh(5));
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId('agent-allow-once'));
    fake.emit('agent-prompt-closed', { id: 5 });
    await settle();
    expect(document.activeElement).toBe(before);
    before.remove();
  });
});

describe('Agent and browser questions together', () => {
  const ACCESS: BrowserPrompt = {
    kind: 'access',
    id: 1,
    host: 'mail.example.org',
    connection: 'Firefox',
    items: [{ id: hexId(1), title: 'Mail', username: 'me' }],
  };

  async function mountBoth() {
    const fake = installFake();
    fake.handle('agent_answer', () => true);
    fake.handle('browser_answer', () => true);
    render(BrowserPromptDialog);
    render(AgentPromptDialog);
    await settle();
    return fake;
  }

  function modals() {
    return document.querySelectorAll('[aria-modal="true"]');
  }

  it('shows one modal at a time, the first to ask first, and Esc answers only the one shown', async () => {
    const fake = await mountBoth();
    fake.emit('browser-prompt', ACCESS);
    await settle();
    fake.emit('agent-prompt', ssh(1));
    await settle();
    expect(modals()).toHaveLength(1);
    expect(screen.getByTestId('browser-prompt')).toBeTruthy();
    expect(screen.queryByTestId('agent-prompt')).toBeNull();

    await pressEscape();
    await settle();
    expect(fake.callsTo('browser_answer')).toEqual([{ id: 1, answer: { kind: 'access', decision: 'dismiss' } }]);
    expect(fake.callsTo('agent_answer')).toHaveLength(0);
    expect(modals()).toHaveLength(1);
    expect(screen.getByTestId('agent-prompt').dataset['id']).toBe('1');
    expect(document.activeElement).toBe(screen.getByTestId('agent-allow-once'));

    await pressEscape();
    await settle();
    expect(fake.callsTo('agent_answer')).toEqual([{ id: 1, decision: 'deny' }]);
    expect(modals()).toHaveLength(0);
  });

  it('takes turns, so a stream of one kind does not hold the other back', async () => {
    const fake = await mountBoth();
    fake.emit('agent-prompt', ssh(1));
    fake.emit('agent-prompt', ssh(2));
    await settle();
    fake.emit('browser-prompt', ACCESS);
    await settle();
    expect(screen.getByTestId('agent-prompt').dataset['id']).toBe('1');
    fake.emit('agent-prompt-closed', { id: 1 });
    await settle();
    // The browser waited while ssh #1 was shown: it goes before ssh #2.
    expect(screen.queryByTestId('agent-prompt')).toBeNull();
    expect(screen.getByTestId('browser-prompt')).toBeTruthy();
    fake.emit('browser-prompt-closed', { id: 1 });
    await settle();
    expect(screen.getByTestId('agent-prompt').dataset['id']).toBe('2');
    expect(modals()).toHaveLength(1);
  });

  it('a question closed while the other kind is shown does not change what is shown', async () => {
    const fake = await mountBoth();
    fake.emit('browser-prompt', ACCESS);
    await settle();
    fake.emit('agent-prompt', ssh(1));
    await settle();
    fake.emit('agent-prompt-closed', { id: 1 });
    await settle();
    expect(screen.getByTestId('browser-prompt')).toBeTruthy();
    fake.emit('browser-prompt-closed', { id: 1 });
    await settle();
    expect(modals()).toHaveLength(0);
  });
});
