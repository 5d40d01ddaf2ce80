// The item being edited. It is the one place outside a revealed field where
// the UI holds secrets (password, protected fields, notes, TOTP URI, an SSH
// private key just generated or imported), so it is dropped — not just
// hidden — whenever the editor closes: on save, on cancel, on lock, and when
// the component goes away.

import { api, type AttachmentInfo, type ItemDetails, type ItemDraft, type ItemId, type ItemType } from '../api';

export class EditorSession {
  /** null for a new item. */
  id = $state<ItemId | null>(null);
  revision = $state(0);
  draft = $state<ItemDraft | null>(null);
  attachments = $state<AttachmentInfo[]>([]);
  dirty = $state(false);
  saving = $state(false);

  get isOpen(): boolean {
    return this.draft !== null;
  }

  async openExisting(id: ItemId): Promise<void> {
    this.close();
    const editable = await api.getItemForEdit(id);
    this.id = editable.id;
    this.revision = editable.revision;
    this.attachments = editable.attachments;
    this.draft = editable.draft;
    this.dirty = false;
  }

  async openNew(type: ItemType): Promise<void> {
    this.close();
    this.draft = await api.newItemTemplate(type);
    this.dirty = false;
  }

  /** Switches a new, untouched item to another type's template. */
  async changeNewType(type: ItemType): Promise<void> {
    if (this.id !== null || this.draft === null) return;
    // What every type has keeps its value; the rest comes from the new template.
    const { title, tags, folder, favourite, neverForAgents } = this.draft;
    const template = await api.newItemTemplate(type);
    if (this.draft === null || this.id !== null) return;
    this.draft = { ...template, title, tags, folder, favourite, neverForAgents };
  }

  touch(): void {
    this.dirty = true;
  }

  /** Saves the draft; on success the session closes and the saved item is returned. */
  async save(): Promise<ItemDetails> {
    const draft = this.draft;
    if (draft === null) throw new Error('nothing to save');
    this.saving = true;
    try {
      const plain = $state.snapshot(draft);
      const saved =
        this.id === null ? await api.createItem(plain) : await api.updateItem(this.id, this.revision, plain);
      this.close();
      return saved;
    } finally {
      this.saving = false;
    }
  }

  /** Drops the draft and everything in it. */
  close(): void {
    this.draft = null;
    this.id = null;
    this.revision = 0;
    this.attachments = [];
    this.dirty = false;
  }
}
