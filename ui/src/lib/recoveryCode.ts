// The recovery code as Rust prints it: eight groups of four base32
// characters, e.g. ABCD-EFGH-…. Confirming the last group proves the user
// wrote the code down; the comparison forgives what Rust's parser forgives
// (case, spaces, dashes, 0/1/8 typed for O/I/B).

export function codeGroups(code: string): string[] {
  return code.split('-').filter((g) => g !== '');
}

function normalise(text: string): string {
  return text
    .replace(/[\s-]/g, '')
    .toUpperCase()
    .replace(/0/g, 'O')
    .replace(/1/g, 'I')
    .replace(/8/g, 'B');
}

export function matchesLastGroup(code: string, typed: string): boolean {
  const groups = codeGroups(code);
  const last = groups[groups.length - 1];
  if (last === undefined) return false;
  const want = normalise(last);
  return want !== '' && normalise(typed) === want;
}
