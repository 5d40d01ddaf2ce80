// A stand-in for the Rust side, installed through api.ts's test hook. It
// records every command and answers from handlers a test can replace. It
// lives with the tests, never in the shipped bundle.

import {
  installTestTransport,
  type CommandMap,
  type CommandName,
  type EventMap,
  type EventName,
  type FolderNode,
  type FolderTree,
  type ItemDetails,
  type ItemSummary,
  type Settings,
  type SyncStatus,
  type TagCount,
  type Transport,
} from '../src/api';

type Handler<K extends CommandName> = (
  args: CommandMap[K]['args'],
) => CommandMap[K]['result'] | Promise<CommandMap[K]['result']>;

export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

export function hexId(n: number): string {
  return n.toString(16).padStart(32, '0');
}

export function summary(n: number, over: Partial<ItemSummary> = {}): ItemSummary {
  return {
    id: hexId(n),
    type: 'login',
    title: `Item ${String(n).padStart(6, '0')}`,
    subtitle: `user${n}@example.org`,
    url: `https://site${n}.example`,
    folder: '',
    tags: [],
    favourite: false,
    hasPassword: true,
    hasTotp: n % 2 === 0,
    updatedAt: 1_760_000_000,
    expiresAt: null,
    deletedAt: null,
    share: null,
    ...over,
  };
}

export function details(n: number, over: Partial<ItemDetails> = {}): ItemDetails {
  const s = summary(n);
  return {
    id: s.id,
    type: 'login',
    title: s.title,
    username: s.subtitle,
    urls: s.url === null ? [] : [s.url],
    hasPassword: true,
    hasNotes: true,
    otp: { kind: 'totp', period: 30, digits: 6, issuer: 'Example', account: s.subtitle },
    fields: [
      { name: 'PIN', protected: true, value: null },
      { name: 'Account no', protected: false, value: '12-34' },
    ],
    tags: ['work'],
    folder: 'Work',
    favourite: false,
    attachments: [{ name: 'key.pem', size: 2048 }],
    createdAt: 1_700_000_000,
    updatedAt: 1_760_000_000,
    passwordChangedAt: 1_750_000_000,
    expiresAt: null,
    deletedAt: null,
    revision: 3,
    neverAutofill: false,
    neverForAgents: false,
    sshAgent: false,
    agentApproval: 'every',
    share: s.share,
    ...over,
  };
}

/** The folder tree Rust would count for `items`, folders by name as Rust sorts them. */
export function folderTreeOf(items: ItemSummary[]): FolderTree {
  const root: FolderNode = { name: '', path: '', items: 0, total: 0, children: [] };
  for (const s of items) {
    let node = root;
    node.total++;
    for (const name of s.folder.split('/').filter((p) => p !== '')) {
      let child = node.children.find((c) => c.name === name);
      if (!child) {
        child = { name, path: node.path === '' ? name : `${node.path}/${name}`, items: 0, total: 0, children: [] };
        node.children.push(child);
        node.children.sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
      }
      child.total++;
      node = child;
    }
    node.items++;
  }
  return { total: root.total, unfiled: root.items, folders: root.children };
}

export function tagCountsOf(items: ItemSummary[]): TagCount[] {
  const counts = new Map<string, number>();
  for (const t of items.flatMap((s) => s.tags)) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].map(([tag, n]) => ({ tag, items: n })).sort((a, b) => a.tag.localeCompare(b.tag));
}

/** A fingerprint as Rust shows one: 8 groups of 5 digits. */
export const FINGERPRINT = '12345 67890 13579 24680 11223 34455 66778 89900';

/** A linked vault's sync status as Rust reports it, idle unless `over` says otherwise. */
export function syncStatus(over: Partial<SyncStatus> = {}): SyncStatus {
  return {
    server: 'https://sync.example.org',
    account: 'me@example.org',
    state: 'idle',
    lastSyncAt: null,
    pending: 0,
    message: null,
    nextAttemptAt: null,
    conflicts: 0,
    ...over,
  };
}

export const DEFAULT_SETTINGS: Settings = {
  autoLockMinutes: 5,
  lockOnSleep: true,
  lockOnScreenLock: true,
  clipboardClearSeconds: 20,
  theme: 'system',
  quickAccessShortcut: 'Ctrl+Shift+Space',
  autoTypeShortcut: 'Ctrl+Alt+A',
  browserIntegration: false,
  browserAllowHttp: false,
  browserSaveFolder: 'Browser',
  sshAgent: true,
  closeToTray: false,
};

export class FakeTauri implements Transport {
  calls: Call[] = [];
  /** Items the fake vault holds; search_items ranks them by title order. */
  items: ItemSummary[] = [];
  #handlers = new Map<string, (args: never) => unknown>();
  #listeners = new Map<string, Set<(payload: unknown) => void>>();

  constructor(itemCount = 0) {
    this.items = Array.from({ length: itemCount }, (_, i) => summary(i + 1));
    this.handle('app_state', () => ({
      state: 'unlocked',
      vaultPath: '/home/me/.local/share/tessera/vault.tessera',
      defaultVaultPath: '/home/me/.local/share/tessera/vault.tessera',
      version: '0.1.0',
      rollback: { counter: null, tpmUnreachable: null },
    }));
    // As in Rust: the lock command emits `vault-locked`, which switches the screen.
    this.handle('lock', () => {
      this.emit('vault-locked', { reason: 'user', renew: false });
      return null;
    });
    this.handle('get_settings', () => ({ ...DEFAULT_SETTINGS }));
    this.handle('update_settings', ({ settings }) => settings);
    this.handle('search_items', ({ query, scope, offset, limit, share, folder, tag }) => {
      const q = query.trim().toLowerCase();
      const matching = this.items.filter(
        (s) =>
          (scope === 'trash' ? s.deletedAt !== null : s.deletedAt === null) &&
          (scope !== 'favourites' || s.favourite) &&
          (share === undefined || share === null || s.share === share) &&
          (folder === undefined || folder === null || s.folder === folder || s.folder.startsWith(`${folder}/`)) &&
          (tag === undefined || tag === null || s.tags.includes(tag)) &&
          (q === '' || s.title.toLowerCase().includes(q)),
      );
      return { total: matching.length, offset, items: matching.slice(offset, offset + limit) };
    });
    this.handle('get_item', ({ id }) =>
      details(parseInt(id, 16), { share: this.items.find((s) => s.id === id)?.share ?? null }),
    );
    this.handle('copy_field', () => ({ clearAfterSeconds: 20 }));
    this.handle('copy_text', () => ({ clearAfterSeconds: 20 }));
    this.handle('attachment_limit', () => 25 * 1024 * 1024);
    this.handle('totp_code', () => ({ code: '492039', period: 30, remaining: 17 }));
    this.handle('reveal_field', ({ field }) => `secret-${field.kind}`);
    this.handle('trash_item', () => null);
    this.handle('restore_item', () => null);
    this.handle('password_strength', ({ password }) => ({
      score: password.length >= 16 ? 4 : password.length >= 12 ? 3 : 1,
      guessesLog10: password.length,
      crackTime: password.length >= 12 ? 'centuries' : 'minutes',
      warning: null,
      suggestions: [],
    }));
    this.handle('generate_password', ({ options }) => ({
      value: options.mode === 'password' ? 'G3n-'.padEnd(options.length, 'x') : 'correct-horse-battery-staple',
      entropyBits: options.mode === 'password' ? options.length * 6.5 : options.words * 12.9,
    }));
    this.handle('unlock_factors', () => []);
    this.handle('quick_access_hide', () => null);
    this.handle('show_main_window', () => null);
    this.handle('user_active', () => null);
    this.handle('browser_prompts', () => []);
    this.handle('agent_prompts', () => []);
    this.handle('share_list', () => []);
    this.handle('folder_tree', () => folderTreeOf(this.items.filter((s) => s.deletedAt === null)));
    this.handle('tag_counts', () => tagCountsOf(this.items.filter((s) => s.deletedAt === null)));
    this.handle('move_items', ({ ids, folder }) => {
      let moved = 0;
      this.items = this.items.map((s) => {
        if (!ids.includes(s.id) || s.folder === folder) return s;
        moved++;
        return { ...s, folder };
      });
      return moved;
    });
    this.handle('sync_status', () => syncStatus());
    this.handle('sync_devices', () => []);
    this.handle('sync_conflicts', () => []);
    this.handle('identity_info', () => ({
      email: 'me@example.org',
      fingerprint: FINGERPRINT,
      qrSvg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
    }));
  }

  /** Sets (or replaces) the answer to one command. */
  handle<K extends CommandName>(cmd: K, handler: Handler<K>): this {
    this.#handlers.set(cmd, handler);
    return this;
  }

  // Tauri rejects with the plain serialised error, {kind, message}, not an
  // Error object: the fake does the same.
  /** Makes one command fail as Rust would, with {kind, message}. */
  fail(cmd: CommandName, kind: string, message: string): this {
    this.#handlers.set(cmd, () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw { kind, message };
    });
    return this;
  }

  invoke(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    this.calls.push({ cmd, args: structuredClone(args) });
    const handler = this.#handlers.get(cmd);
    if (!handler) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject({ kind: 'internal', message: `the fake has no answer for ${cmd}` });
    }
    try {
      return Promise.resolve(handler(args as never));
    } catch (e) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(e);
    }
  }

  listen(event: string, handler: (payload: unknown) => void): Promise<() => void> {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(handler);
    return Promise.resolve(() => set.delete(handler));
  }

  /** Emits an event as Rust would. */
  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    for (const h of this.#listeners.get(event) ?? []) h(payload);
  }

  listenerCount(event: EventName): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Arguments of every call to `cmd`, in order. */
  callsTo<K extends CommandName>(cmd: K): CommandMap[K]['args'][] {
    return this.calls.filter((c) => c.cmd === cmd).map((c) => c.args as CommandMap[K]['args']);
  }

  /** Names of the commands called, in order. */
  get commandNames(): string[] {
    return this.calls.map((c) => c.cmd);
  }
}

/** Installs a fresh fake for one test. */
export function installFake(itemCount = 0): FakeTauri {
  const fake = new FakeTauri(itemCount);
  installTestTransport(fake);
  return fake;
}

/** Lets pending promises and Svelte updates settle. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise((r) => setTimeout(r, 0));
  }
}
