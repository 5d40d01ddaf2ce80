// Item types, SSH key kinds and agent approvals as people read them, in one
// place for the list, the view and the editor; and how a key from Rust goes
// into an ssh-key draft.

import { SSH_FIELDS, type AgentApproval, type DraftField, type ItemType, type SshKeyFields, type SshKeyKind } from '../api';

export const ITEM_TYPE_NAMES: Record<ItemType, string> = {
  login: 'Login',
  note: 'Secure note',
  card: 'Card',
  identity: 'Identity',
  'ssh-key': 'SSH key',
};

export const SSH_KEY_KIND_NAMES: Record<SshKeyKind, string> = {
  ed25519: 'Ed25519',
  'ecdsa-p256': 'ECDSA P-256',
  'rsa-3072': 'RSA 3072',
};

/** The editor's choices for "Ask before signing". */
export const APPROVAL_CHOICES: Record<AgentApproval, string> = {
  every: 'Every time',
  'once-per-unlock': 'Once per unlock',
  never: 'Never',
};

/** The same setting as a sentence, for the item view. */
export const APPROVAL_SENTENCES: Record<AgentApproval, string> = {
  every: 'Asks before every signature',
  'once-per-unlock': 'Asks once per unlock',
  never: 'Signs without asking',
};

/** What an AI agent asks for, in words; a custom field goes by its own name. */
export function agentFieldName(field: string): string {
  const named: Record<string, string> = { password: 'Password', username: 'Username', totp: 'One-time code', notes: 'Notes' };
  return named[field] ?? field;
}

// The key's four fields, in the order the editor keeps them.
const KEY_FIELD_ORDER = [SSH_FIELDS.privateKey, SSH_FIELDS.publicKey, SSH_FIELDS.fingerprint, SSH_FIELDS.comment] as const;

/**
 * The draft's fields with `key` in them: "Private key" (always protected),
 * "Public key", "Fingerprint" and "Comment" are set, made if absent, and
 * kept together in that order where the first of them was (at the top when
 * none was there). The user's other fields keep their places.
 */
export function withSshKey(fields: readonly DraftField[], key: SshKeyFields): DraftField[] {
  const values: Record<(typeof KEY_FIELD_ORDER)[number], string> = {
    [SSH_FIELDS.privateKey]: key.privateKey,
    [SSH_FIELDS.publicKey]: key.publicKey,
    [SSH_FIELDS.fingerprint]: key.fingerprint,
    [SSH_FIELDS.comment]: key.comment,
  };
  const isKeyField = (f: DraftField) => (KEY_FIELD_ORDER as readonly string[]).includes(f.name);
  const first = fields.findIndex(isKeyField);
  const keyFields = KEY_FIELD_ORDER.map((name) => {
    const old = fields.find((f) => f.name === name);
    // The private key is a secret whatever the field said; the rest keep the user's choice.
    const protect = name === SSH_FIELDS.privateKey ? true : (old?.protected ?? false);
    return { name, value: values[name], protected: protect };
  });
  const before = first < 0 ? [] : fields.slice(0, first).filter((f) => !isKeyField(f));
  const after = fields.slice(first < 0 ? 0 : first).filter((f) => !isKeyField(f));
  return [...before, ...keyFields, ...after];
}

/** The value of a draft's field by name, or '' when it has none. */
export function draftFieldValue(fields: readonly DraftField[], name: string): string {
  return fields.find((f) => f.name === name)?.value ?? '';
}
