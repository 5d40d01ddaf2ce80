import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import ItemList from '../src/components/ItemList.svelte';
import { FALLBACK_VIEWPORT, OVERSCAN, ROW_HEIGHT } from '../src/lib/virtualWindow';
import { PAGE_SIZE, SearchResults } from '../src/lib/searchResults.svelte';
import { installFake, settle, summary } from './fakeTauri';

function rows() {
  return screen.queryAllByTestId('item-row');
}

const MAX_ROWS = Math.ceil(FALLBACK_VIEWPORT / ROW_HEIGHT) + 1 + 2 * OVERSCAN;

describe('ItemList', () => {
  it('renders only a window of rows for 100,000 items', async () => {
    const fake = installFake(100_000);
    render(ItemList, { results: new SearchResults('live'), onopen: vi.fn() });
    await settle();

    const list = screen.getByTestId('item-list');
    expect(list.dataset['total']).toBe('100000');
    expect(screen.getByTestId('item-count').textContent).toMatch(/100[,.\s]?000/);
    expect(rows().length).toBeGreaterThan(0);
    expect(rows().length).toBeLessThanOrEqual(MAX_ROWS);
    // The spacer makes the scrollbar stand for all rows.
    const spacer = list.querySelector<HTMLElement>('.spacer');
    expect(spacer?.style.height).toBe(`${100_000 * ROW_HEIGHT}px`);
    // Only the first page was asked for, not 100,000 summaries.
    expect(fake.callsTo('search_items')).toEqual([{ query: '', scope: 'live', offset: 0, limit: PAGE_SIZE }]);
  });

  it('loads and renders the rows scrolled to, and only those', async () => {
    const fake = installFake(100_000);
    render(ItemList, { results: new SearchResults('live'), onopen: vi.fn() });
    await settle();

    const list = screen.getByTestId('item-list');
    list.scrollTop = 70_000 * ROW_HEIGHT;
    await fireEvent.scroll(list);
    await settle();

    const indexes = rows().map((r) => Number(r.dataset['index']));
    expect(rows().length).toBeLessThanOrEqual(MAX_ROWS);
    expect(Math.min(...indexes)).toBe(70_000 - OVERSCAN);
    expect(rows()[OVERSCAN]?.dataset['id']).toBe((70_001).toString(16).padStart(32, '0'));
    expect(rows()[OVERSCAN]?.style.transform).toBe(`translateY(${70_000 * ROW_HEIGHT}px)`);
    // The pages holding rows 69,994…70,018: the overscan reaches into the page before.
    const offsets = fake.callsTo('search_items').map((c) => c.offset);
    expect(offsets).toEqual([0, 69_900, 70_000]);
  });

  it('searches as you type and shows what Rust returned, unfiltered', async () => {
    const fake = installFake(1000);
    // Rust decides what matches: the UI must show exactly this, in this order.
    fake.handle('search_items', ({ query, offset }) => ({
      total: query === '' ? 1000 : 2,
      offset,
      items:
        query === ''
          ? fake.items.slice(offset, offset + 100)
          : [fake.items[41], fake.items[7]].filter((s) => s !== undefined),
    }));
    render(ItemList, { results: new SearchResults('live'), onopen: vi.fn() });
    await settle();

    await fireEvent.input(screen.getByTestId('search-input'), { target: { value: 'zz' } });
    await settle();
    expect(fake.callsTo('search_items').at(-1)).toMatchObject({ query: 'zz', offset: 0 });
    expect(rows().map((r) => r.textContent)).toEqual([
      expect.stringContaining('Item 000042'),
      expect.stringContaining('Item 000008'),
    ]);
  });

  it('drops a stale answer that arrives after a newer one', async () => {
    const fake = installFake(10);
    const slow: ((v: unknown) => void)[] = [];
    fake.handle('search_items', ({ query, offset }) => {
      if (query === 'a') return new Promise((resolve) => slow.push(resolve)) as never;
      return { total: 1, offset, items: [fake.items[2]!] };
    });
    render(ItemList, { results: new SearchResults('live'), onopen: vi.fn() });
    await settle();
    const input = screen.getByTestId('search-input');
    await fireEvent.input(input, { target: { value: 'a' } });
    await fireEvent.input(input, { target: { value: 'ab' } });
    await settle();
    slow[slow.length - 1]?.({ total: 5, offset: 0, items: fake.items.slice(0, 5) });
    await settle();
    expect(rows()).toHaveLength(1);
    expect(rows()[0]?.textContent).toContain('Item 000003');
  });

  it('moves with the arrow keys and opens with Enter', async () => {
    installFake(500);
    const onopen = vi.fn();
    const results = new SearchResults('live');
    render(ItemList, { results, onopen });
    await settle();
    const input = screen.getByTestId('search-input');

    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    await fireEvent.keyDown(input, { key: 'ArrowUp' });
    expect(results.selectedIndex).toBe(1);
    expect(screen.getAllByTestId('item-row')[1]?.getAttribute('aria-selected')).toBe('true');

    await fireEvent.keyDown(input, { key: 'PageDown' });
    expect(results.selectedIndex).toBeGreaterThan(5);
    await fireEvent.keyDown(screen.getByTestId('item-list'), { key: 'End' });
    expect(results.selectedIndex).toBe(499);
    await fireEvent.keyDown(screen.getByTestId('item-list'), { key: 'Home' });
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(onopen).toHaveBeenCalledWith(expect.objectContaining({ title: 'Item 000001' }));
  });

  it('says so when nothing matches', async () => {
    installFake(3);
    render(ItemList, { results: new SearchResults('live'), onopen: vi.fn() });
    await settle();
    await fireEvent.input(screen.getByTestId('search-input'), { target: { value: 'nothing like this' } });
    await settle();
    expect(screen.getByTestId('item-list-empty').textContent).toContain('nothing like this');
  });
  it('marks an SSH key with a key icon and says what it is', async () => {
    const fake = installFake();
    fake.items = [summary(1, { type: 'ssh-key', subtitle: '', url: null, hasPassword: false, hasTotp: false }), summary(2)];
    render(ItemList, { results: new SearchResults('live'), onopen: vi.fn() });
    await settle();
    const [key, login] = rows();
    expect(key?.querySelector('.icon.type-ssh-key svg')).toBeTruthy();
    expect(key?.querySelector('.icon')?.getAttribute('title')).toBe('SSH key');
    expect(key?.querySelector('.subtitle')?.textContent).toBe('SSH key');
    expect(login?.querySelector('.icon svg')).toBeNull();
  });
});
