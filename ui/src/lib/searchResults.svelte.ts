// The ranked result of the current search, fetched from Rust one page at a
// time as the virtual list scrolls to it. The UI never filters or reorders:
// row N is whatever Rust ranked Nth for (query, scope).
//
// Every keystroke starts a new generation; a page that arrives for an older
// generation is dropped, so fast typing can never show a stale list.

import { api, type ItemSummary, type ListFilter, type SearchScope } from '../api';
import { showError } from './toasts.svelte';

export const PAGE_SIZE = 100;

export class SearchResults {
  query = $state('');
  readonly scope: SearchScope;
  /** Matches in all (rows of the list). */
  total = $state(0);
  /** Whether the first page of the current query has arrived. */
  ready = $state(false);
  selectedIndex = $state(0);
  /** Only this share's items (its name); null for all. */
  share = $state<string | null>(null);
  /** Only this folder's items, its subfolders' included (its path); null for all. */
  folder = $state<string | null>(null);
  /** Only the items with this tag; null for all. */
  tag = $state<string | null>(null);

  // Plain collections on purpose: readers subscribe to #version, which is
  // bumped once per page that lands, not once per row.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #pages = new Map<number, ItemSummary[]>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #pending = new Set<number>();
  #generation = 0;
  /** Bumped whenever a page lands, so readers of `at()` re-render. */
  #version = $state(0);

  constructor(scope: SearchScope) {
    this.scope = scope;
  }

  /** The summary at row `index`, or undefined while its page is loading. */
  at(index: number): ItemSummary | undefined {
    void this.#version;
    return this.#pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  get selected(): ItemSummary | undefined {
    return this.total > 0 ? this.at(this.selectedIndex) : undefined;
  }

  /** Runs a new search from the first row. */
  async search(query: string): Promise<void> {
    this.query = query;
    this.selectedIndex = 0;
    await this.#reload();
  }

  /** Shows only share `name`'s items (null: all), from the first row. */
  async filterShare(name: string | null): Promise<void> {
    await this.filter({ share: name });
  }

  /** The sidebar's one choice (a share, a folder or a tag; none: all items), from the first row. */
  async filter(f: ListFilter): Promise<void> {
    const [share, folder, tag] = [f.share ?? null, f.folder ?? null, f.tag ?? null];
    if (share === this.share && folder === this.folder && tag === this.tag && this.ready) return;
    this.share = share;
    this.folder = folder;
    this.tag = tag;
    this.selectedIndex = 0;
    await this.#reload();
  }

  /** Whether the list shows all items (no share, folder or tag chosen). */
  get unfiltered(): boolean {
    return this.share === null && this.folder === null && this.tag === null;
  }

  get #filter(): ListFilter {
    return { share: this.share, folder: this.folder, tag: this.tag };
  }

  /** Runs the current search again (after a change in the vault), keeping the selection where it can. */
  async refresh(): Promise<void> {
    await this.#reload();
    if (this.selectedIndex >= this.total) this.selectedIndex = Math.max(0, this.total - 1);
  }

  async #reload(): Promise<void> {
    const generation = ++this.#generation;
    this.#pending.clear();
    try {
      const page = await api.searchItems(this.query, this.scope, 0, PAGE_SIZE, this.#filter);
      if (generation !== this.#generation) return;
      // eslint-disable-next-line svelte/prefer-svelte-reactivity
      this.#pages = new Map([[0, page.items]]);
      this.total = page.total;
      this.ready = true;
      this.#version++;
    } catch (e) {
      if (generation === this.#generation) showError(e);
    }
  }

  /** Makes sure rows [start, end) are loaded or on their way. */
  ensure(start: number, end: number): void {
    if (!this.ready) return;
    const last = Math.min(end, this.total) - 1;
    for (let p = Math.floor(start / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p++) {
      if (!this.#pages.has(p) && !this.#pending.has(p)) void this.#loadPage(p);
    }
  }

  async #loadPage(page: number): Promise<void> {
    const generation = this.#generation;
    this.#pending.add(page);
    try {
      const result = await api.searchItems(this.query, this.scope, page * PAGE_SIZE, PAGE_SIZE, this.#filter);
      if (generation !== this.#generation) return;
      this.#pages.set(page, result.items);
      this.total = result.total;
      this.#version++;
    } catch (e) {
      if (generation === this.#generation) showError(e);
    } finally {
      if (generation === this.#generation) this.#pending.delete(page);
    }
  }

  select(index: number): void {
    if (this.total === 0) return;
    this.selectedIndex = Math.max(0, Math.min(this.total - 1, index));
  }

  /** Forgets everything (the vault locked). */
  clear(): void {
    this.#generation++;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    this.#pages = new Map();
    this.#pending.clear();
    this.total = 0;
    this.query = '';
    this.ready = false;
    this.#version++;
  }
}
