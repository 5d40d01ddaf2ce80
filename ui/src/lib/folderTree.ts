// The sidebar's folder tree as rows on the screen, and the "Move to…"
// chooser's options. Rust counts (folder_tree); this only lays the tree out
// for the keyboard and the eye: which rows show, in what order, and where
// the arrow keys go.

import type { FolderNode, FolderTree } from '../api';

/** The drag payload of item rows (ItemList sets it, the tree reads it): a JSON array of ids. */
export const ITEMS_MIME = 'application/x-tessera-items';

/** The path of the tree's root row, "All items". */
export const ROOT = '';

export interface TreeRow {
  path: string;
  name: string;
  /** 0 for "All items", 1 for a top-level folder. */
  depth: number;
  /** Items it lists: its own and its subfolders'. */
  total: number;
  hasChildren: boolean;
  expanded: boolean;
}

/** `"/Work// Servers /"` → `"Work/Servers"`, as Rust's normalize_folder. */
export function normalizeFolder(path: string): string {
  return path
    .split('/')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join('/');
}

/** The folder holding `path` (ROOT for a top-level folder). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? ROOT : path.slice(0, i);
}

/** `name` inside `parent`. */
export function joinPath(parent: string, name: string): string {
  return parent === ROOT ? name : `${parent}/${name}`;
}

/** The folders above `path`, outermost first: "A/B/C" → ["A", "A/B"]. */
export function ancestors(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Every folder, depth first, in the tree's order. */
export function allFolders(tree: FolderTree): FolderNode[] {
  const out: FolderNode[] = [];
  const walk = (nodes: FolderNode[]) => {
    for (const n of nodes) {
      out.push(n);
      walk(n.children);
    }
  };
  walk(tree.folders);
  return out;
}

export function findFolder(tree: FolderTree, path: string): FolderNode | undefined {
  return allFolders(tree).find((n) => n.path === path);
}

/** The rows on the screen: "All items", then each folder whose parents are all expanded. */
export function visibleRows(tree: FolderTree, expanded: ReadonlySet<string>): TreeRow[] {
  const rows: TreeRow[] = [
    { path: ROOT, name: 'All items', depth: 0, total: tree.total, hasChildren: tree.folders.length > 0, expanded: true },
  ];
  const walk = (nodes: FolderNode[], depth: number) => {
    for (const n of nodes) {
      const open = expanded.has(n.path);
      rows.push({ path: n.path, name: n.name, depth, total: n.total, hasChildren: n.children.length > 0, expanded: open });
      if (open) walk(n.children, depth + 1);
    }
  };
  walk(tree.folders, 1);
  return rows;
}

/** What a key does in the tree (WAI-ARIA tree view pattern). */
export type TreeMove =
  | { kind: 'focus'; path: string }
  | { kind: 'expand'; path: string }
  | { kind: 'collapse'; path: string };

/** Where `key` takes the focus from row `current` (null: the key is not the tree's). */
export function treeKey(rows: readonly TreeRow[], current: string, key: string): TreeMove | null {
  const i = Math.max(
    0,
    rows.findIndex((r) => r.path === current),
  );
  const row = rows[i];
  if (row === undefined) return null;
  const focus = (r: TreeRow | undefined): TreeMove | null => (r ? { kind: 'focus', path: r.path } : null);
  switch (key) {
    case 'ArrowDown':
      return focus(rows[Math.min(rows.length - 1, i + 1)]);
    case 'ArrowUp':
      return focus(rows[Math.max(0, i - 1)]);
    case 'Home':
      return focus(rows[0]);
    case 'End':
      return focus(rows[rows.length - 1]);
    case 'ArrowRight':
      if (!row.hasChildren) return focus(row);
      if (!row.expanded) return { kind: 'expand', path: row.path };
      return focus(rows[i + 1]);
    case 'ArrowLeft':
      if (row.depth > 0 && row.hasChildren && row.expanded) return { kind: 'collapse', path: row.path };
      return focus(rows.find((r) => r.path === parentPath(row.path) && r.depth === row.depth - 1) ?? rows[0]);
    default:
      return null;
  }
}

export interface ChooserOption {
  path: string;
  /** What the option says: the path, "No folder", or "New folder …". */
  label: string;
  /** Items it holds now (0 for a new folder). */
  total: number;
  /** It does not exist yet: choosing it makes it. */
  isNew: boolean;
}

/**
 * The "Move to…" dialog's options for what the user typed: the existing
 * folders whose path contains it (any case), "No folder" when it fits, and
 * a new folder of that path when no folder is called exactly that.
 */
export function chooserOptions(tree: FolderTree, typed: string): ChooserOption[] {
  const wanted = normalizeFolder(typed);
  const needle = wanted.toLowerCase();
  const options: ChooserOption[] = [];
  if (needle === '' || 'no folder'.includes(needle)) {
    options.push({ path: ROOT, label: 'No folder', total: tree.unfiled, isNew: false });
  }
  for (const n of allFolders(tree)) {
    if (n.path.toLowerCase().includes(needle)) options.push({ path: n.path, label: n.path, total: n.total, isNew: false });
  }
  if (wanted !== '' && !options.some((o) => o.path === wanted)) {
    options.push({ path: wanted, label: `New folder “${wanted}”`, total: 0, isNew: true });
  }
  return options;
}
