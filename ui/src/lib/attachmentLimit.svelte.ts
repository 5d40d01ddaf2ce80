// The largest attachment, asked of Rust once (the core's limit) and said
// wherever files are attached: the buttons' hints and the drop zone.

import { api } from '../api';
import { formatBytes } from './format';

let bytes = $state<number | null>(null);
let asked = false;

/** "Up to 25 MiB each.", or '' until Rust has answered. */
export function attachmentLimitText(): string {
  if (!asked) {
    asked = true;
    api.attachmentLimit().then(
      (b) => (bytes = b),
      () => (asked = false),
    );
  }
  return bytes === null ? '' : `Up to ${formatBytes(bytes)} each.`;
}
