import { afterEach } from 'vitest';
import { installTestTransport } from '../src/api';
import { toasts } from '../src/lib/toasts.svelte';

afterEach(() => {
  installTestTransport(null);
  toasts.clear();
  delete document.documentElement.dataset['theme'];
});
