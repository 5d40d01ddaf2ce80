import { describe, expect, it } from 'vitest';
import type { FolderTree } from '../src/api';
import {
  ancestors,
  chooserOptions,
  findFolder,
  joinPath,
  normalizeFolder,
  parentPath,
  ROOT,
  treeKey,
  visibleRows,
} from '../src/lib/folderTree';
import { folderTreeOf, summary } from './fakeTauri';

// Bank; Home/Wi-Fi; Work (1) with Work/Servers (2) and Work/Servers/Old (1); and 1 item in no folder.
const TREE: FolderTree = folderTreeOf(
  ['', 'Work', 'Work/Servers', 'Work/Servers', 'Work/Servers/Old', 'Bank', 'Home/Wi-Fi'].map((folder, i) => summary(i + 1, { folder })),
);

describe('folder paths', () => {
  it('normalise, split and join as Rust’s do', () => {
    expect(normalizeFolder(' /Work// Servers /')).toBe('Work/Servers');
    expect(parentPath('Work/Servers/Old')).toBe('Work/Servers');
    expect(parentPath('Work')).toBe(ROOT);
    expect(joinPath(ROOT, 'Work')).toBe('Work');
    expect(joinPath('Work', 'Servers')).toBe('Work/Servers');
    expect(ancestors('Work/Servers/Old')).toEqual(['Work', 'Work/Servers']);
    expect(ancestors('Work')).toEqual([]);
  });
});

describe('the folder tree on the screen', () => {
  it('shows All items and the top-level folders, with counts that include subfolders', () => {
    const rows = visibleRows(TREE, new Set());
    expect(rows.map((r) => [r.path, r.depth, r.total])).toEqual([
      ['', 0, 7],
      ['Bank', 1, 1],
      ['Home', 1, 1],
      ['Work', 1, 4],
    ]);
    expect(rows.find((r) => r.path === 'Work')).toMatchObject({ hasChildren: true, expanded: false });
    expect(findFolder(TREE, 'Work/Servers')).toMatchObject({ items: 2, total: 3 });
  });

  it('shows a folder’s subfolders only while it and its parents are open', () => {
    expect(visibleRows(TREE, new Set(['Work'])).map((r) => r.path)).toEqual(['', 'Bank', 'Home', 'Work', 'Work/Servers']);
    const deep = visibleRows(TREE, new Set(['Work', 'Work/Servers']));
    expect(deep.map((r) => `${r.depth}:${r.path}`)).toContain('3:Work/Servers/Old');
    expect(visibleRows(TREE, new Set(['Work/Servers'])).map((r) => r.path)).not.toContain('Work/Servers/Old');
  });

  it('moves with the arrow keys as a tree view does', () => {
    const rows = visibleRows(TREE, new Set(['Work']));
    expect(treeKey(rows, ROOT, 'ArrowDown')).toEqual({ kind: 'focus', path: 'Bank' });
    expect(treeKey(rows, ROOT, 'ArrowUp')).toEqual({ kind: 'focus', path: ROOT });
    expect(treeKey(rows, 'Work/Servers', 'ArrowDown')).toEqual({ kind: 'focus', path: 'Work/Servers' });
    expect(treeKey(rows, 'Home', 'ArrowRight')).toEqual({ kind: 'expand', path: 'Home' });
    expect(treeKey(rows, 'Work', 'ArrowRight')).toEqual({ kind: 'focus', path: 'Work/Servers' });
    expect(treeKey(rows, 'Work', 'ArrowLeft')).toEqual({ kind: 'collapse', path: 'Work' });
    expect(treeKey(rows, 'Work/Servers', 'ArrowLeft')).toEqual({ kind: 'focus', path: 'Work' });
    expect(treeKey(rows, 'Bank', 'ArrowLeft')).toEqual({ kind: 'focus', path: ROOT });
    expect(treeKey(rows, 'Bank', 'End')).toEqual({ kind: 'focus', path: 'Work/Servers' });
    expect(treeKey(rows, 'Bank', 'Home')).toEqual({ kind: 'focus', path: ROOT });
    expect(treeKey(rows, 'Bank', 'x')).toBeNull();
  });
});

describe('the Move to… chooser', () => {
  it('offers every folder and No folder before anything is typed', () => {
    const options = chooserOptions(TREE, '');
    expect(options[0]).toMatchObject({ path: ROOT, label: 'No folder', total: 1 });
    expect(options.map((o) => o.path)).toEqual(['', 'Bank', 'Home', 'Home/Wi-Fi', 'Work', 'Work/Servers', 'Work/Servers/Old']);
  });

  it('narrows to the paths that contain what was typed, in any case', () => {
    expect(chooserOptions(TREE, 'serv').map((o) => o.path)).toEqual(['Work/Servers', 'Work/Servers/Old', 'serv']);
    expect(chooserOptions(TREE, 'work/servers').at(-1)).toMatchObject({ isNew: true, path: 'work/servers' });
    expect(chooserOptions(TREE, 'Work/Servers').some((o) => o.isNew)).toBe(false);
  });

  it('offers a path no folder has as a new folder, normalised', () => {
    expect(chooserOptions(TREE, ' Work / Clients/ ')).toEqual([{ path: 'Work/Clients', label: 'New folder “Work/Clients”', total: 0, isNew: true }]);
  });
});
