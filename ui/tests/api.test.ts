import { describe, expect, it } from 'vitest';
import { api, ApiError, on, toApiError } from '../src/api';
import { installFake } from './fakeTauri';

describe('api', () => {
  it('calls each command by its snake_case name with camelCase arguments', async () => {
    const fake = installFake(3);
    await api.searchItems('mail', 'live', 100, 50);
    await api.updateItem('ab'.repeat(16), 7, {
      type: 'login',
      title: 't',
      username: '',
      password: '',
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
    }).catch(() => undefined);
    await api.changeMasterPassword('old', 'new').catch(() => undefined);
    expect(fake.calls[0]).toEqual({ cmd: 'search_items', args: { query: 'mail', scope: 'live', offset: 100, limit: 50 } });
    expect(fake.calls[1]?.cmd).toBe('update_item');
    expect(Object.keys(fake.calls[1]?.args ?? {})).toEqual(['id', 'baseRevision', 'item']);
    expect(fake.calls[2]).toEqual({ cmd: 'change_master_password', args: { currentPassword: 'old', newPassword: 'new' } });
  });

  it('sends the browser commands their camelCase arguments', async () => {
    const fake = installFake();
    fake.handle('browser_forget_site', () => null);
    fake.handle('browser_answer', () => true);
    await api.browserForgetSite('ab'.repeat(16), 'mail.example.org');
    await api.browserAnswer(4, null);
    expect(fake.calls).toEqual([
      { cmd: 'browser_forget_site', args: { itemId: 'ab'.repeat(16), host: 'mail.example.org' } },
      { cmd: 'browser_answer', args: { id: 4, answer: null } },
    ]);
  });

  it('sends the SSH and agent commands their camelCase arguments', async () => {
    const fake = installFake();
    const key = { privateKey: 'p', publicKey: 'ssh-ed25519 AAAA', fingerprint: 'SHA256:x', comment: '' };
    fake.handle('ssh_generate_key', () => key);
    fake.handle('ssh_import_key', () => key);
    fake.handle('agent_answer', () => true);
    await api.sshGenerateKey('ecdsa-p256', 'me@host');
    await api.sshImportKey('-----BEGIN…', null);
    await api.agentPrompts();
    await api.agentAnswer(7, 'session');
    await api.agentAnswer(8, null);
    expect(fake.calls).toEqual([
      { cmd: 'ssh_generate_key', args: { kind: 'ecdsa-p256', comment: 'me@host' } },
      { cmd: 'ssh_import_key', args: { content: '-----BEGIN…', passphrase: null } },
      { cmd: 'agent_prompts', args: {} },
      { cmd: 'agent_answer', args: { id: 7, decision: 'session' } },
      { cmd: 'agent_answer', args: { id: 8, decision: null } },
    ]);
  });

  it('sends an empty object to commands without arguments', async () => {
    const fake = installFake();
    await api.lock();
    expect(fake.calls).toEqual([{ cmd: 'lock', args: {} }]);
  });

  it('turns a Rust error into an ApiError carrying only kind and message', async () => {
    const fake = installFake();
    fake.fail('unlock', 'wrong_password', 'The master password is wrong.');
    const err = await api.unlock({ kind: 'password', password: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('wrong_password');
    expect((err as ApiError).message).toBe('The master password is wrong.');
  });

  it('maps strings, unknown kinds and junk to a message for people', () => {
    expect(toApiError('disk full').message).toBe('disk full');
    expect(toApiError({ kind: 'weird', message: 'm' }).kind).toBe('internal');
    expect(toApiError(undefined).message).toMatch(/went wrong/);
    expect(toApiError({ stack: 'at foo (bar.js:1)' }).message).not.toMatch(/bar\.js/);
  });

  it('delivers events to listeners until they stop listening', async () => {
    const fake = installFake();
    const got: string[] = [];
    const stop = await on('vault-locked', (p) => got.push(p.reason));
    fake.emit('vault-locked', { reason: 'idle', renew: false });
    stop();
    fake.emit('vault-locked', { reason: 'user', renew: false });
    expect(got).toEqual(['idle']);
  });
});
