// Which window this page is: the main window, or Quick Access (opened by
// Rust at index.html#/quick, or with ?window=quick).

export function isQuickAccessWindow(loc: Pick<Location, 'hash' | 'search'>): boolean {
  return loc.hash.startsWith('#/quick') || new URLSearchParams(loc.search).get('window') === 'quick';
}
