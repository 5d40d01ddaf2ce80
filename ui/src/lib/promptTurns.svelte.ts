// The browser extension's questions and the agents' questions come from two
// queues, each shown by its own dialog. Both are modal, so only one may be
// on screen: two stacked dialogs would fight over the focus, Tab and Esc.
// This is the line they wait in. A dialog joins it when its first question
// arrives, leaves it when its last one goes, and after each question it
// showed steps to the back if the other dialog is waiting, so a stream of
// one kind cannot hold the other back until Rust's 120 s run out.
//
// The focus the user had before the first question took it comes back when
// the line is empty again, whichever dialog was last.

import { tick } from 'svelte';

export type PromptSource = 'browser' | 'agent';

class PromptTurns {
  #line = $state<PromptSource[]>([]);
  #returnFocus: HTMLElement | null = null;

  /** The dialog whose question is on screen, if any. */
  get current(): PromptSource | null {
    return this.#line[0] ?? null;
  }

  /** `source` has a question waiting. */
  want(source: PromptSource): void {
    if (this.#line.includes(source)) return;
    if (this.#line.length === 0) {
      this.#returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    }
    this.#line = [...this.#line, source];
  }

  /** `source`'s shown question ended and it has more: the other one goes first if it waits. */
  next(source: PromptSource): void {
    if (this.#line[0] !== source || this.#line.length < 2) return;
    this.#line = [...this.#line.filter((s) => s !== source), source];
  }

  /** `source` has nothing left to ask. */
  done(source: PromptSource): void {
    if (!this.#line.includes(source)) return;
    this.#line = this.#line.filter((s) => s !== source);
    if (this.#line.length > 0) return;
    const back = this.#returnFocus;
    this.#returnFocus = null;
    // After the dialog has left the page.
    void tick().then(() => {
      if (back?.isConnected) back.focus();
    });
  }
}

export const promptTurns = new PromptTurns();
