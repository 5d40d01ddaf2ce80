// Non-blocking messages at the bottom of the window. Errors from Rust show
// their `message` only: never a stack, never the error object.

import { toApiError } from '../api';

/** 'warning': the sync server's data failed verification (kind 'hostile'). */
export type ToastKind = 'info' | 'error' | 'warning';

export interface ToastAction {
  label: string;
  run: () => void;
}

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
  action: ToastAction | null;
}

const INFO_MS = 4000;
const ERROR_MS = 8000;

class ToastList {
  items = $state<Toast[]>([]);
  #next = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();

  push(kind: ToastKind, message: string, action: ToastAction | null = null): number {
    const id = this.#next++;
    this.items = [...this.items.slice(-3), { id, kind, message, action }];
    this.#timers.set(
      id,
      setTimeout(() => this.dismiss(id), kind === 'info' ? INFO_MS : ERROR_MS),
    );
    return id;
  }

  info(message: string, action: ToastAction | null = null): number {
    return this.push('info', message, action);
  }

  dismiss(id: number): void {
    const timer = this.#timers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(id);
    this.items = this.items.filter((t) => t.id !== id);
  }

  clear(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.items = [];
  }
}

export const toasts = new ToastList();

/** Shows a failed call's message; a cancelled dialog is not a failure. */
export function showError(e: unknown): void {
  const err = toApiError(e);
  if (err.kind === 'cancelled') return;
  toasts.push(err.kind === 'hostile' ? 'warning' : 'error', err.message);
}

/** Runs `task`, showing its error as a toast; resolves to undefined on failure. */
export async function attempt<T>(task: () => Promise<T>): Promise<T | undefined> {
  try {
    return await task();
  } catch (e) {
    showError(e);
    return undefined;
  }
}
