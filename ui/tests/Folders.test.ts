import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import MainScreen from '../src/components/MainScreen.svelte';
import Toasts from '../src/components/Toasts.svelte';
import { ITEMS_MIME } from '../src/lib/folderTree';
import { hexId, installFake, settle } from './fakeTauri';

const FOLDERS = ['', 'Work', 'Work/Servers', 'Work/Servers', 'Home', 'Bank'];
const TAGS = [['ops'], ['ops'], [], ['linux'], [], []];

async function renderMain() {
  const fake = installFake(FOLDERS.length);
  fake.items = fake.items.map((s, i) => ({ ...s, folder: FOLDERS[i]!, tags: TAGS[i]! }));
  fake.handle('rename_folder', () => 3);
  fake.handle('delete_folder', () => 3);
  render(MainScreen, { onlocked: vi.fn() });
  render(Toasts);
  await settle();
  return fake;
}

function node(path: string): HTMLElement {
  const found = screen.getAllByTestId('folder-node').find((n) => n.dataset['path'] === path);
  if (!found) throw new Error(`no folder node ${path}`);
  return found;
}

function total(): string | undefined {
  return screen.getByTestId('item-list').dataset['total'];
}

describe('the sidebar’s folders and tags', () => {
  it('shows the tree with counts that include subfolders, and the tags with theirs', async () => {
    await renderMain();
    const nodes = screen.getAllByTestId('folder-node').map((n) => [n.dataset['path'], n.dataset['total']]);
    expect(nodes).toEqual([
      ['', '6'],
      ['Bank', '1'],
      ['Home', '1'],
      ['Work', '3'],
    ]);
    expect(node('').textContent).toContain('All items');
    const tags = screen.getAllByTestId('tag-filter').map((t) => [t.dataset['tag'], t.dataset['count']]);
    expect(tags).toEqual([
      ['linux', '1'],
      ['ops', '2'],
    ]);
  });

  it('a folder shows its items and its subfolders’; a tag its items; All items everything', async () => {
    const fake = await renderMain();
    await fireEvent.click(node('Work'));
    await settle();
    expect(fake.callsTo('search_items').at(-1)).toMatchObject({ folder: 'Work' });
    expect(total()).toBe('3');
    expect(node('Work').getAttribute('aria-current')).toBe('page');
    await fireEvent.click(screen.getAllByTestId('tag-filter')[1]!);
    await settle();
    const last = fake.callsTo('search_items').at(-1)!;
    expect(last).toMatchObject({ tag: 'ops' });
    expect(last.folder).toBeUndefined();
    expect(total()).toBe('2');
    await fireEvent.click(node(''));
    await settle();
    expect(fake.callsTo('search_items').at(-1)).toEqual({ query: '', scope: 'live', offset: 0, limit: 100 });
    expect(total()).toBe('6');
  });

  it('is driven by the keyboard: arrows move and open, Enter selects', async () => {
    const fake = await renderMain();
    const root = node('');
    root.focus();
    await fireEvent.keyDown(root, { key: 'End' });
    await settle();
    expect(document.activeElement).toBe(node('Work'));
    await fireEvent.keyDown(node('Work'), { key: 'ArrowRight' });
    await settle();
    expect(node('Work').getAttribute('aria-expanded')).toBe('true');
    await fireEvent.keyDown(node('Work'), { key: 'ArrowDown' });
    await settle();
    expect(document.activeElement).toBe(node('Work/Servers'));
    await fireEvent.keyDown(node('Work/Servers'), { key: 'Enter' });
    await settle();
    expect(fake.callsTo('search_items').at(-1)).toMatchObject({ folder: 'Work/Servers' });
  });

  it('F2 renames a folder, keeping it where it is', async () => {
    const fake = await renderMain();
    await fireEvent.keyDown(node('Work'), { key: 'F2' });
    await settle();
    const input = screen.getByTestId<HTMLInputElement>('folder-rename-input');
    expect(input.value).toBe('Work');
    await fireEvent.input(input, { target: { value: 'Job' } });
    await fireEvent.click(screen.getByTestId('folder-rename-submit'));
    await settle();
    expect(fake.callsTo('rename_folder')).toEqual([{ from: 'Work', to: 'Job' }]);
    expect(screen.getByTestId('toast').textContent).toContain('Renamed “Work” to “Job”');
  });

  it('Delete on a folder asks first, saying how many items move where, and trashes no item', async () => {
    const fake = await renderMain();
    await fireEvent.keyDown(node('Work'), { key: 'Delete' });
    await settle();
    const dialog = screen.getByTestId('confirm-dialog');
    expect(dialog.textContent).toContain('3 items in it and its subfolders will move to no folder');
    expect(fake.commandNames).not.toContain('trash_item');
    await fireEvent.click(within(dialog).getByTestId('confirm-ok'));
    await settle();
    expect(fake.callsTo('delete_folder')).toEqual([{ path: 'Work' }]);
  });

  it('the context menu offers rename and delete', async () => {
    await renderMain();
    await fireEvent.contextMenu(node('Home'));
    await settle();
    const menu = screen.getByTestId('folder-menu');
    expect(document.activeElement).toBe(within(menu).getByTestId('folder-menu-rename'));
    await fireEvent.click(within(menu).getByTestId('folder-menu-delete'));
    await settle();
    expect(screen.getByTestId('confirm-dialog').textContent).toContain('1 item in it');
  });

  it('an item row dropped on a folder moves there', async () => {
    const fake = await renderMain();
    const data = new Map<string, string>();
    const dataTransfer = {
      types: [ITEMS_MIME],
      setData: (t: string, v: string) => data.set(t, v),
      getData: (t: string) => data.get(t) ?? '',
      dropEffect: 'none',
      effectAllowed: 'all',
    };
    const row = screen.getAllByTestId('item-row')[0]!;
    await fireEvent.dragStart(row, { dataTransfer });
    expect(JSON.parse(data.get(ITEMS_MIME)!)).toEqual([row.dataset['id']]);
    await fireEvent.dragOver(node('Home'), { dataTransfer });
    await fireEvent.drop(node('Home'), { dataTransfer });
    await settle();
    expect(fake.callsTo('move_items')).toEqual([{ ids: [row.dataset['id']], folder: 'Home' }]);
  });

  it('Ctrl+M opens Move to…: typing narrows, Enter moves, a new path makes a folder', async () => {
    const fake = await renderMain();
    await fireEvent.keyDown(window, { key: 'm', ctrlKey: true });
    await settle();
    const input = screen.getByTestId<HTMLInputElement>('folder-chooser-input');
    expect(document.activeElement).toBe(input);
    await fireEvent.input(input, { target: { value: 'serv' } });
    const options = screen.getAllByTestId('folder-chooser-option').map((o) => o.dataset['path']);
    expect(options).toEqual(['Work/Servers', 'serv']);
    await fireEvent.keyDown(input, { key: 'Enter' });
    await settle();
    expect(fake.callsTo('move_items')).toEqual([{ ids: [hexId(1)], folder: 'Work/Servers' }]);
    expect(screen.queryByTestId('folder-chooser-dialog')).toBeNull();

    await fireEvent.click(screen.getByTestId('item-move-button'));
    await settle();
    const again = screen.getByTestId<HTMLInputElement>('folder-chooser-input');
    await fireEvent.input(again, { target: { value: 'Clients/New' } });
    await fireEvent.keyDown(again, { key: 'Enter' });
    await settle();
    expect(fake.callsTo('move_items').at(-1)).toEqual({ ids: [hexId(1)], folder: 'Clients/New' });
  });
});
