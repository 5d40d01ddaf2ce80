// The one module that talks to Rust. Every Tauri command the UI calls and
// every event it listens for is declared here, with its exact argument and
// result types; ui/API.md is the same contract in prose. Nothing else in the
// UI imports @tauri-apps/api (an ESLint rule enforces it).
//
// What never crosses this boundary in a list, search or view payload:
// passwords, protected custom-field values, notes, TOTP secrets. Those come
// only from `reveal_field` (one value the user asked to see),
// `get_item_for_edit` (the user is editing them), `ssh_generate_key` /
// `ssh_import_key` (a key going into the editor's draft) and
// `totp_scan_screen` / `totp_scan_file` (a QR code's TOTP going into it)
// and the sync account's Secret Key, from `sync_register` / `sync_kit`
// (the Emergency Kit page) and `sync_read_kit_file` (the join form);
// copies are done by Rust.

import { invoke as tauriInvoke } from '@tauri-apps/api/core';
import { listen as tauriListen } from '@tauri-apps/api/event';

// ---------------------------------------------------------------------------
// Shared types

/** An item id: 32 lower-case hexadecimal characters. */
export type ItemId = string;
/** Seconds since the Unix epoch (UTC). */
export type UnixSeconds = number;

export type ItemType = 'login' | 'note' | 'card' | 'identity' | 'ssh-key';
export const ITEM_TYPES: readonly ItemType[] = ['login', 'note', 'card', 'identity', 'ssh-key'];

/**
 * The custom fields an `ssh-key` item keeps its key in. Rust reads "Private
 * key" (protected, OpenSSH format) on save and rewrites "Public key" (the
 * authorized_keys line) and "Fingerprint" (SHA256:…) from it.
 */
export const SSH_FIELDS = {
  privateKey: 'Private key',
  publicKey: 'Public key',
  fingerprint: 'Fingerprint',
  comment: 'Comment',
} as const;

/** When the SSH agent asks before signing with a key. */
export type AgentApproval = 'every' | 'once-per-unlock' | 'never';
export const AGENT_APPROVALS: readonly AgentApproval[] = ['every', 'once-per-unlock', 'never'];

/** Which items a search covers. */
export type SearchScope = 'live' | 'favourites' | 'trash';

/** What lists and search show of an item: no secret in it. */
export interface ItemSummary {
  id: ItemId;
  type: ItemType;
  title: string;
  /** Second line: username for a login, cardholder for a card, full name for an identity, '' otherwise. Never a secret. */
  subtitle: string;
  /** The first URL, if any. */
  url: string | null;
  folder: string;
  tags: string[];
  favourite: boolean;
  hasPassword: boolean;
  hasTotp: boolean;
  updatedAt: UnixSeconds;
  expiresAt: UnixSeconds | null;
  /** When it went to the trash; null while live. */
  deletedAt: UnixSeconds | null;
  /** The name of the share the item is in; null for the account's own items. */
  share: string | null;
}

/** One page of a ranked search result. */
export interface SearchPage {
  /** How many items match in all. */
  total: number;
  /** Index of `items[0]` in the full result. */
  offset: number;
  /** At most `limit` summaries, in Rust's rank order. */
  items: ItemSummary[];
}

/** A custom field as the item view shows it. */
export interface ViewField {
  name: string;
  protected: boolean;
  /** The value of an unprotected field; always null for a protected one. */
  value: string | null;
}

export interface AttachmentInfo {
  name: string;
  /** Bytes. */
  size: number;
}

/** What the view may know of an item's one-time-password generator (never its secret). */
export type OtpInfo =
  | { kind: 'totp'; period: number; digits: number; issuer: string | null; account: string | null }
  | { kind: 'hotp'; digits: number; issuer: string | null; account: string | null };

/** An item as the item view shows it: no secret in it. */
export interface ItemDetails {
  id: ItemId;
  type: ItemType;
  title: string;
  username: string;
  urls: string[];
  hasPassword: boolean;
  hasNotes: boolean;
  otp: OtpInfo | null;
  fields: ViewField[];
  tags: string[];
  folder: string;
  favourite: boolean;
  attachments: AttachmentInfo[];
  createdAt: UnixSeconds;
  updatedAt: UnixSeconds;
  passwordChangedAt: UnixSeconds;
  expiresAt: UnixSeconds | null;
  deletedAt: UnixSeconds | null;
  revision: number;
  /** Never offered to the browser extension. */
  neverAutofill: boolean;
  /** Never given to AI agents (`tessera mcp`), not even listed to them. */
  neverForAgents: boolean;
  /** ssh-key: served by the SSH agent (false for other types). */
  sshAgent: boolean;
  /** ssh-key: when the agent asks before signing ('every' for other types). */
  agentApproval: AgentApproval;
  /** The name of the share the item is in; null for the account's own items. */
  share: string | null;
}

/** Names one value of an item, for `reveal_field` and `copy_field`. */
export type FieldRef =
  | { kind: 'username' }
  | { kind: 'password' }
  | { kind: 'notes' }
  | { kind: 'totp' }
  | { kind: 'url'; index: number }
  | { kind: 'custom'; name: string };

/** The fields `reveal_field` accepts: the secret ones. */
export type RevealableField = Extract<FieldRef, { kind: 'password' | 'notes' | 'custom' }>;

export const PASSWORD: FieldRef = { kind: 'password' };
export const USERNAME: FieldRef = { kind: 'username' };
export const TOTP: FieldRef = { kind: 'totp' };

export interface CopyReceipt {
  /** Seconds until Rust clears the clipboard (if it still holds the value); null if clearing is off. */
  clearAfterSeconds: number | null;
}

export interface TotpCode {
  code: string;
  /** Seconds per code; null for HOTP. */
  period: number | null;
  /** Seconds the code stays valid; null for HOTP. */
  remaining: number | null;
}

export interface DraftField {
  name: string;
  value: string;
  protected: boolean;
}

/** An item as the editor edits it, secrets included. */
export interface ItemDraft {
  type: ItemType;
  title: string;
  username: string;
  password: string;
  urls: string[];
  notes: string;
  /** An otpauth:// URI, or a bare base32 secret (Rust makes a default TOTP URI of it); '' for none. */
  otp: string;
  fields: DraftField[];
  tags: string[];
  folder: string;
  favourite: boolean;
  expiresAt: UnixSeconds | null;
  /** Never offered to the browser extension. */
  neverAutofill: boolean;
  /** "Never give to AI agents" (every type). */
  neverForAgents: boolean;
  /** ssh-key: "Use in the SSH agent" (the template says true). */
  sshAgent: boolean;
  /** ssh-key: "Ask before signing". */
  agentApproval: AgentApproval;
  /** Auto-type: the global shortcut types this item into a window it matches. */
  autoType: AutoTypeDraft;
}

/** An item's auto-type settings in the editor (KeePass's per-entry Auto-Type). */
export interface AutoTypeDraft {
  /** Auto-type may type this item (default true). */
  enabled: boolean;
  /** Its sequence; '' = {USERNAME}{TAB}{PASSWORD}{ENTER}. */
  sequence: string;
  /** Window-title rules, in order: `*` is any text (`*Firefox*`), `//…//` a regular expression. */
  rules: AutoTypeRuleDraft[];
}
export interface AutoTypeRuleDraft {
  window: string;
  /** The sequence for windows this rule matches; '' = the item's. */
  sequence: string;
}

/** `auto-type-choose`: several items match the focused window; Quick Access asks which (no secret in it). */
export interface AutoTypeChoice {
  request: number;
  /** The window's title. */
  window: string;
  items: { id: ItemId; title: string; username: string }[];
}
/** `auto-type-notice`: why auto-type typed nothing (more), for people. */
export interface AutoTypeNotice {
  /** unavailable: Wayland or no X display (copy instead); no-match; error. */
  kind: 'unavailable' | 'no-match' | 'error';
  message: string;
}

/** An item's attachments after one was added or removed, and the item's new revision. */
export interface AttachmentChange {
  attachments: AttachmentInfo[];
  revision: number;
}

export interface EditableItem {
  id: ItemId;
  /** The revision the draft was read at; `update_item` refuses a stale one with kind 'conflict'. */
  revision: number;
  draft: ItemDraft;
  attachments: AttachmentInfo[];
}

export interface HistoryEntry {
  revision: number;
  /** When this version was saved. */
  savedAt: UnixSeconds;
  title: string;
  username: string;
  /** Names of what differs from the next newer version: 'title', 'password', 'notes', 'otp', 'urls', 'field:NAME', … (never values). */
  changed: string[];
}

export type PasswordOptions = {
  mode: 'password';
  length: number;
  lowercase: boolean;
  uppercase: boolean;
  digits: boolean;
  symbols: boolean;
  avoidAmbiguous: boolean;
};
export type PassphraseOptions = {
  mode: 'passphrase';
  words: number;
  separator: string;
  capitalize: boolean;
};
export type GeneratorOptions = PasswordOptions | PassphraseOptions;

export interface GeneratedPassword {
  value: string;
  entropyBits: number;
}

export interface PasswordStrength {
  /** zxcvbn score 0–4. */
  score: 0 | 1 | 2 | 3 | 4;
  guessesLog10: number;
  /** e.g. "centuries", for people. */
  crackTime: string;
  warning: string | null;
  suggestions: string[];
}

export interface HealthItemRef {
  id: ItemId;
  title: string;
}
export interface HealthReport {
  weak: { id: ItemId; title: string; score: number; warning: string | null }[];
  reused: { items: HealthItemRef[] }[];
  old: { id: ItemId; title: string; changedAt: UnixSeconds; ageDays: number }[];
  expiring: { id: ItemId; title: string; expiresAt: UnixSeconds; expired: boolean }[];
}

export interface AuditEntry {
  seq: number;
  at: UnixSeconds;
  /** The event's kind, snake_case as in tessera-core: 'item_created', 'slot_added', … */
  event: string;
  /** One line for people, from AuditEvent::describe. */
  description: string;
  itemId: ItemId | null;
}
export interface AuditPage {
  /** Newest first. */
  entries: AuditEntry[];
  /** Entries in the whole log. */
  total: number;
}

export type Theme = 'system' | 'light' | 'dark';

export interface Settings {
  /** Lock after this many idle minutes; 0 = never. */
  autoLockMinutes: number;
  lockOnSleep: boolean;
  lockOnScreenLock: boolean;
  /** Clear a copied value after this many seconds; 0 = never. Default 20. */
  clipboardClearSeconds: number;
  theme: Theme;
  /** Global shortcut that opens Quick Access, in Tauri's accelerator syntax. Default "Ctrl+Shift+Space". */
  quickAccessShortcut: string;
  /** Global shortcut that auto-types into the focused window (X11 only). Default "Ctrl+Alt+A". */
  autoTypeShortcut: string;
  /** Serve the KeePassXC-Browser extension. Turning it on writes the browsers' manifests and opens the socket. Default false. */
  browserIntegration: boolean;
  /** Also fill https logins on http pages. Default false. */
  browserAllowHttp: boolean;
  /** Folder for logins saved from the browser. Default "Browser". */
  browserSaveFolder: string;
  /** Serve the SSH agent socket while the vault is unlocked. Default true. */
  sshAgent: boolean;
  /** Closing the main window keeps Tessera running in the tray (locked, it then holds no web view). Default false: closing quits. */
  closeToTray: boolean;
}

export type VaultState = 'no_vault' | 'locked' | 'unlocked';
export interface AppState {
  state: VaultState;
  vaultPath: string | null;
  /** Where a new vault goes unless the user picks another place. */
  defaultVaultPath: string;
  version: string;
  /** Whole-file rollback protection of the unlocked vault; null unless unlocked. */
  rollback: RollbackProtection | null;
}

/** The unlocked vault's binding to a TPM counter (DESIGN §3). */
export interface RollbackProtection {
  /** NV index of the TPM counter the vault is bound to (shown as 0x013a5300); null: not bound (no TPM slot). */
  counter: number | null;
  /**
   * Set when the check after unlock could not use the TPM (not answering, or its counter gone): why, for people.
   * The vault reads, and every write is refused until the TPM answers (the main window shows a banner).
   */
  tpmUnreachable: string | null;
}

export type HardwareFactorKind = 'keyring' | 'tpm' | 'yubikey';

/** A slot that opens the vault with a hardware factor (shown as a button on the unlock screen). */
export interface UnlockFactor {
  slot: number;
  kind: HardwareFactorKind;
  label: string;
  /** TPM and YubiKey ask for a PIN. */
  needsPin: boolean;
  /** A composite slot: the master password is needed as well. */
  requiresPassword: boolean;
}

export type Credential =
  | { kind: 'password'; password: string }
  | { kind: 'recovery'; code: string }
  | { kind: 'keyring'; slot: number }
  | { kind: 'tpm'; slot: number; pin: string; password: string | null }
  | { kind: 'yubikey'; slot: number; pin: string; password: string | null };

export interface SlotInfo {
  id: number;
  /** 'password', 'recovery', 'keyring', 'tpm', 'yubikey', or a composite such as 'password+tpm'. */
  kind: string;
  label: string;
  /** e.g. "password (Argon2id m=256 MiB t=3 p=4)". */
  description: string;
  createdAt: UnixSeconds;
  lastUsedAt: UnixSeconds | null;
  /** Only in `add_slot`'s answer: added, but something that goes with it was not (no TPM counter could be made). */
  warning?: string | null;
}

export interface AddSlotRequest {
  factor: HardwareFactorKind;
  label: string | null;
  /** TPM and YubiKey PIN; null for the keyring. */
  pin: string | null;
  /** Make a composite slot that also needs the master password. */
  alsoRequirePassword: boolean;
  /** The master password, when `alsoRequirePassword`. */
  password: string | null;
  /** YubiKey: require a touch when generating its key. */
  touch: boolean;
}

export type ImportFormat =
  | 'keepass'
  | 'bitwarden-json'
  | 'bitwarden-csv'
  | 'csv'
  | '1password-csv'
  | 'chrome-csv'
  | 'firefox-csv'
  | 'otpauth'
  | 'aegis'
  | 'tessera-backup';
export const IMPORT_FORMATS: readonly ImportFormat[] = [
  'keepass',
  'bitwarden-json',
  'bitwarden-csv',
  'csv',
  '1password-csv',
  'chrome-csv',
  'firefox-csv',
  'otpauth',
  'aegis',
  'tessera-backup',
];
export type ExportFormat = 'keepass' | 'bitwarden-json' | 'tessera-backup';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['keepass', 'bitwarden-json', 'tessera-backup'];

export interface ImportSource {
  path: string;
  fileName: string;
  /** The format Rust detected from the content, if it could. */
  detectedFormat: ImportFormat | null;
  /** KeePass and Tessera backups are encrypted. */
  needsPassword: boolean;
}

/**
 * What the sync engine is doing: `sign_in` — the session expired (the sign-in
 * dialog asks for the master password); `hostile` — the server's data failed
 * verification and nothing was applied.
 */
export type SyncStateName = 'idle' | 'syncing' | 'offline' | 'error' | 'sign_in' | 'hostile';

/** The vault's sync account and what the background sync is doing; `sync_status` is null when the vault is not linked. */
export interface SyncStatus {
  server: string;
  /** The account's email. */
  account: string;
  state: SyncStateName;
  /** The last successful sync; null before the first. */
  lastSyncAt: UnixSeconds | null;
  /** Local changes waiting to go up. */
  pending: number;
  /** One sentence for people: the error, the offline reason or the hostile finding; null when none. */
  message: string | null;
  /** The next automatic try (offline/error backoff); null when none is scheduled. */
  nextAttemptAt: UnixSeconds | null;
  /** Conflict copies in the vault, to review. */
  conflicts: number;
}

/**
 * The Emergency Kit: what signs in to the account on a new computer, with
 * the master password the user writes on it by hand. `secretKey` is a
 * secret: only the kit page shows it, and drops it when it closes.
 */
export interface SyncKit {
  server: string;
  email: string;
  secretKey: string;
  /** An SVG document: a QR code of the Secret Key. */
  qrSvg: string;
}

/** A device signed in to the account. */
export interface SyncDevice {
  id: string;
  name: string;
  created: UnixSeconds;
  revoked: boolean;
  /** This computer (cannot be revoked from here). */
  current: boolean;
}

/** An item sync kept as "(conflict copy from DEVICE)" beside the one it conflicted with. */
export interface ConflictCopy {
  /** The copy. */
  id: ItemId;
  title: string;
  /** The item it is a copy of; null when that one is gone. */
  originalId: ItemId | null;
  originalTitle: string | null;
  /** The device whose change the copy holds. */
  device: string;
  updatedAt: UnixSeconds;
}

/** `copy`: the original takes the copy's content (its history keeps the old one), the copy goes to the trash; `original`: the copy goes to the trash. */
export type ConflictKeep = 'copy' | 'original';

/** One browser's native-messaging manifest for the extension's host name. */
export interface BrowserManifest {
  /** 'firefox', 'chromium', 'chrome', 'brave'. */
  browser: string;
  /** The user's manifest file for this browser. */
  path: string;
  /** The manifest is Tessera's. */
  installed: boolean;
  /** KeePassXC's host program, when its manifest of the same name is present (here or system-wide). */
  otherHost: string | null;
}

/** A browser the user let connect. */
export interface BrowserConnection {
  /** The name the user gave when approving it. */
  name: string;
  createdAt: UnixSeconds;
  lastUsedAt: UnixSeconds;
}

export interface BrowserStatus {
  /** The setting `browserIntegration`. */
  enabled: boolean;
  /** The socket is open. */
  listening: boolean;
  /** Why the socket could not be opened, for people. */
  error: string | null;
  socketPath: string;
  /** Browser hosts connected to the socket now. */
  connectedHosts: number;
  browsers: BrowserManifest[];
  /** Approved connections; null while the vault is locked. */
  connections: BrowserConnection[] | null;
}

/** A remembered "Always allow" or "Deny" of one item on one site. */
export interface SiteRuleDto {
  itemId: ItemId;
  title: string;
  host: string;
  allow: boolean;
  decidedAt: UnixSeconds;
}

/** An item a site asks for, as the question shows it (no secret). */
export interface BrowserPromptItem {
  id: ItemId;
  title: string;
  username: string;
}

/** A question from the browser extension, waiting for the user. */
export type BrowserPrompt =
  | { kind: 'connect'; id: number; fingerprint: string }
  | { kind: 'access'; id: number; host: string; connection: string; items: BrowserPromptItem[] };

export type AccessDecision = 'once' | 'always' | 'deny' | 'dismiss';

/** The user's answer to a BrowserPrompt of the same kind. */
export type BrowserAnswer =
  | { kind: 'connect'; name: string | null }
  | { kind: 'access'; decision: AccessDecision };

export type SshKeyKind = 'ed25519' | 'ecdsa-p256' | 'rsa-3072';
export const SSH_KEY_KINDS: readonly SshKeyKind[] = ['ed25519', 'ecdsa-p256', 'rsa-3072'];

/** A key from `ssh_generate_key` or `ssh_import_key`, for the editor's draft (which holds secrets anyway). */
export interface SshKeyFields {
  /** OpenSSH format, unencrypted: goes into the protected "Private key" field. */
  privateKey: string;
  /** The authorized_keys line. */
  publicKey: string;
  /** SHA256:… */
  fingerprint: string;
  comment: string;
}

/** One account read from a QR code, for the editor's TOTP field (which holds secrets anyway). */
export interface ScannedAccount {
  /** What an item of its own is titled: the issuer, else the account. */
  title: string;
  issuer: string | null;
  account: string | null;
  /** The otpauth:// URI, secret included: only ever goes into a draft's `otp`. */
  otp: string;
}

/** What `totp_scan_screen` / `totp_scan_file` found: one account, or a migration batch of several. */
export interface QrScan {
  /** At least one. */
  accounts: ScannedAccount[];
  /** Why accounts the code named were left out, one sentence each (never a secret). */
  skipped: string[];
}

/** Settings → SSH agent. Works while locked. */
export interface AgentStatus {
  /** The setting `sshAgent`. */
  enabled: boolean;
  /** The socket is open (only while unlocked). */
  listening: boolean;
  /** Why the socket could not be opened, for people. */
  error: string | null;
  /** $XDG_RUNTIME_DIR/tessera/ssh-agent.sock */
  socketPath: string;
  /** Rust connected to the socket and the agent answered a key listing just now. */
  reachable: boolean;
  /** Keys the agent lists now; null while locked. */
  keys: number | null;
  /** `export SSH_AUTH_SOCK=…`, for ~/.bashrc. */
  exportLine: string;
  /** `IdentityAgent …`, for ~/.ssh/config. */
  identityAgentLine: string;
  /** The app's own SSH_AUTH_SOCK is this socket. */
  environmentUsesTessera: boolean;
}

/** A program asks to sign with a key (ssh), or an AI agent for a value (mcp). No secret in it. */
export type AgentPrompt =
  | {
      kind: 'ssh';
      id: number;
      /** Who asks to sign, e.g. "ssh git@github.com (pid 4242) from git push". */
      process: string;
      key: { id: ItemId; title: string; fingerprint: string };
    }
  | {
      kind: 'mcp';
      id: number;
      /** The AI agent's name as it introduced itself ("claude-code"). */
      client: string;
      /** The program that started `tessera mcp`. */
      process: string;
      item: { id: ItemId; title: string };
      /** 'password', 'totp', 'username', 'notes' or a custom field's name. */
      field: string;
    };

/** A member's role in a share, weakest first: read opens items, write also changes them, manage also changes who is in. */
export type ShareRole = 'read' | 'write' | 'manage';
export const SHARE_ROLES: readonly ShareRole[] = ['read', 'write', 'manage'];

/** A share this account is in, or an invitation to one (`pending`). */
export interface ShareInfo {
  /** What `share_accept` / `share_decline` take. */
  id: string;
  name: string;
  /** This account's role. */
  role: ShareRole;
  members: number;
  /** An invitation not yet accepted. */
  pending: boolean;
}

/** A member as the share's signed membership says. */
export interface MemberInfo {
  email: string;
  role: ShareRole;
  /** 8 groups of 5 digits. */
  fingerprint: string;
  /** This account compared fingerprints with them (always true for itself). */
  verified: boolean;
}

/** What `share_invite` did: the invitee's fingerprint as the server gave it. */
export interface Invited {
  email: string;
  fingerprint: string;
  /** This account had verified that fingerprint. */
  verified: boolean;
  role: ShareRole;
}

/** An invitation, checked, before joining. */
export interface Invitation {
  id: string;
  name: string;
  /** The role offered. */
  role: ShareRole;
  members: number;
  /** Who invited; null when they have left since. */
  inviter: MemberInfo | null;
}

/** This account's sharing identity, for the Settings card. */
export interface IdentityCard {
  email: string;
  fingerprint: string;
  /** An SVG document: a QR code of `tessera-identity:EMAIL:DIGITS`. */
  qrSvg: string;
}

/**
 * What `identity_scan_screen` / `identity_scan_file` came to: the person of
 * the scanned identity QR code verified, or, with codes of several people
 * and no email asked for, whose to verify (scan again with that email).
 */
export type IdentityScan =
  | { outcome: 'verified'; email: string; fingerprint: string }
  | { outcome: 'choose'; emails: string[] };

/** Where `item_set_share` put an item, and whether the sync that carries the move went through. */
export interface ShareMove {
  share: string | null;
  synced: boolean;
  /** Why the sync did not go through (the move stays queued). */
  message: string | null;
}

/**
 * What the item list shows besides the search: the sidebar's one choice of a
 * share, a folder or a tag (null or absent: no such filter). A folder means
 * the folder and its subfolders ("Work" lists "Work/Servers" too).
 */
export interface ListFilter {
  share?: string | null;
  folder?: string | null;
  tag?: string | null;
}

/** One folder of the sidebar's tree. Folders exist only as the paths items carry. */
export interface FolderNode {
  /** The last segment ("Servers"). */
  name: string;
  /** The whole path ("Work/Servers"). */
  path: string;
  /** Items filed in this folder itself. */
  items: number;
  /** Items in it and its subfolders: what selecting it lists. */
  total: number;
  /** Subfolders, by name (case-insensitive). */
  children: FolderNode[];
}

/** The folder tree of the live items. */
export interface FolderTree {
  /** Every live item ("All items"). */
  total: number;
  /** Items in no folder. */
  unfiled: number;
  folders: FolderNode[];
}

/** A tag and how many live items carry it. */
export interface TagCount {
  tag: string;
  items: number;
}

/** ssh: 'session' allows the asking process; mcp: the AI agent's session (the client's run). */
export type AgentDecision = 'once' | 'session' | 'deny';

// ---------------------------------------------------------------------------
// Commands: name → argument object (camelCase, as Tauri 2 maps Rust's
// snake_case parameters) and result.

type NoArgs = Record<string, never>;

export interface CommandMap {
  app_state: { args: NoArgs; result: AppState };
  pick_vault_path: { args: { mode: 'create' | 'open' }; result: string | null };
  create_vault: { args: { path: string; password: string }; result: { recoveryCode: string } };
  open_vault: { args: { path: string }; result: AppState };
  unlock_factors: { args: NoArgs; result: UnlockFactor[] };
  unlock: { args: { credential: Credential }; result: AppState };
  lock: { args: NoArgs; result: null };
  password_strength: { args: { password: string }; result: PasswordStrength };

  search_items: {
    args: {
      query: string;
      scope: SearchScope;
      offset: number;
      limit: number;
      share?: string | null;
      folder?: string | null;
      tag?: string | null;
    };
    result: SearchPage;
  };
  get_item: { args: { id: ItemId }; result: ItemDetails };
  reveal_field: { args: { id: ItemId; field: RevealableField }; result: string };
  copy_field: { args: { id: ItemId; field: FieldRef }; result: CopyReceipt };
  totp_code: { args: { id: ItemId }; result: TotpCode };
  open_url: { args: { id: ItemId; index: number }; result: null };
  new_item_template: { args: { type: ItemType }; result: ItemDraft };
  get_item_for_edit: { args: { id: ItemId }; result: EditableItem };
  create_item: { args: { item: ItemDraft }; result: ItemDetails };
  update_item: { args: { id: ItemId; baseRevision: number; item: ItemDraft }; result: ItemDetails };
  set_favourite: { args: { id: ItemId; favourite: boolean }; result: null };
  trash_item: { args: { id: ItemId }; result: null };
  restore_item: { args: { id: ItemId }; result: null };
  purge_item: { args: { id: ItemId }; result: null };
  empty_trash: { args: NoArgs; result: number };
  item_history: { args: { id: ItemId }; result: HistoryEntry[] };
  restore_version: { args: { id: ItemId; revision: number }; result: ItemDetails };
  add_attachment: { args: { id: ItemId }; result: AttachmentChange | null };
  remove_attachment: { args: { id: ItemId; name: string }; result: AttachmentChange };
  save_attachment: { args: { id: ItemId; name: string }; result: boolean };
  /** The largest attachment, in bytes (the core's limit). */
  attachment_limit: { args: NoArgs; result: number };
  /** Files dropped on the item (the drag-drop event's paths); all are checked before any is attached. */
  attach_files: { args: { id: ItemId; paths: string[] }; result: AttachmentChange };
  /** Opens an attachment with the system's handler through a private temporary copy. */
  open_attachment: { args: { id: ItemId; name: string }; result: null };

  generate_password: { args: { options: GeneratorOptions }; result: GeneratedPassword };
  copy_text: { args: { text: string }; result: CopyReceipt };
  health_report: { args: NoArgs; result: HealthReport };
  audit_log: { args: { beforeSeq: number | null; limit: number }; result: AuditPage };

  get_settings: { args: NoArgs; result: Settings };
  update_settings: { args: { settings: Settings }; result: Settings };
  list_slots: { args: NoArgs; result: SlotInfo[] };
  add_slot: { args: { request: AddSlotRequest }; result: SlotInfo };
  remove_slot: { args: { slot: number }; result: string | null };
  change_master_password: { args: { currentPassword: string; newPassword: string }; result: null };
  pick_import_file: { args: NoArgs; result: ImportSource | null };
  import_items: {
    args: { path: string; format: ImportFormat | null; password: string | null; folder: string | null };
    result: { imported: number };
  };
  export_vault: { args: { format: ExportFormat; password: string | null }; result: string | null };
  /** null: the vault is not linked to a sync account. */
  sync_status: { args: NoArgs; result: SyncStatus | null };
  /** Runs a sync now and resolves when it ends. */
  sync_now: { args: NoArgs; result: SyncStatus };
  /** Creates the account from the unlocked vault; `password` is the vault's master password (else 'wrong_password'). */
  sync_register: { args: { server: string; email: string; password: string }; result: SyncKit };
  /** Signs in again after 'sign_in_needed'; 'totp_required': call again with the code. */
  sync_sign_in: { args: { password: string; totp: string | null }; result: SyncStatus };
  /** Makes a NEW vault at `path` from the account and unlocks it (emits `vault-unlocked`); only while no vault is unlocked. */
  sync_join: {
    args: { path: string; server: string; email: string; secretKey: string; password: string; totp: string | null };
    result: { recoveryCode: string };
  };
  /** A file picker for the Emergency Kit (PDF or text): the Secret Key in it; null if cancelled. */
  sync_read_kit_file: { args: NoArgs; result: string | null };
  sync_kit: { args: NoArgs; result: SyncKit };
  /** A save dialog, then the PDF kit: its path; null if cancelled. */
  sync_save_kit_pdf: { args: NoArgs; result: string | null };
  sync_devices: { args: NoArgs; result: SyncDevice[] };
  sync_revoke_device: { args: { id: string }; result: null };
  sync_conflicts: { args: NoArgs; result: ConflictCopy[] };
  sync_resolve_conflict: { args: { id: ItemId; keep: ConflictKeep }; result: null };
  /** Signs this device out and unlinks the vault from the account. */
  sync_sign_out: { args: NoArgs; result: null };

  browser_status: { args: NoArgs; result: BrowserStatus };
  browser_revoke: { args: { name: string }; result: null };
  browser_sites: { args: NoArgs; result: SiteRuleDto[] };
  browser_forget_site: { args: { itemId: ItemId; host: string }; result: null };
  browser_prompts: { args: NoArgs; result: BrowserPrompt[] };
  browser_answer: { args: { id: number; answer: BrowserAnswer | null }; result: boolean };

  ssh_generate_key: { args: { kind: SshKeyKind; comment: string }; result: SshKeyFields };
  ssh_import_key: { args: { content: string; passphrase: string | null }; result: SshKeyFields };
  agent_status: { args: NoArgs; result: AgentStatus };
  agent_prompts: { args: NoArgs; result: AgentPrompt[] };
  agent_answer: { args: { id: number; decision: AgentDecision | null }; result: boolean };

  totp_scan_screen: { args: NoArgs; result: QrScan };
  pick_qr_image: { args: NoArgs; result: string | null };
  totp_scan_file: { args: { path: string }; result: QrScan };

  identity_info: { args: NoArgs; result: IdentityCard };
  identity_verify: { args: { email: string; fingerprint: string }; result: { email: string; fingerprint: string } };
  identity_scan_screen: { args: { email: string | null }; result: IdentityScan };
  identity_scan_file: { args: { path: string; email: string | null }; result: IdentityScan };
  share_list: { args: NoArgs; result: ShareInfo[] };
  share_create: { args: { name: string; requireVerified: boolean }; result: ShareInfo };
  share_invite: { args: { name: string; email: string; role: ShareRole }; result: Invited };
  share_invitation: { args: { id: string }; result: Invitation };
  share_accept: { args: { id: string }; result: { share: ShareInfo; pulled: number } };
  share_decline: { args: { id: string }; result: string };
  share_members: { args: { name: string }; result: MemberInfo[] };
  share_remove: { args: { name: string; email: string }; result: null };
  share_leave: { args: { name: string }; result: string };
  item_set_share: { args: { id: ItemId; share: string | null }; result: ShareMove };

  folder_tree: { args: NoArgs; result: FolderTree };
  tag_counts: { args: NoArgs; result: TagCount[] };
  /** How many items moved (items already in `folder` do not count). */
  move_items: { args: { ids: ItemId[]; folder: string }; result: number };
  /** How many items moved. */
  rename_folder: { args: { from: string; to: string }; result: number };
  /** How many items moved to the folder's parent. */
  delete_folder: { args: { path: string }; result: number };

  quick_access_hide: { args: NoArgs; result: null };
  auto_type_choose: { args: { request: number; id: ItemId | null }; result: null };
  show_main_window: { args: NoArgs; result: null };
  user_active: { args: NoArgs; result: null };
}
export type CommandName = keyof CommandMap;

// ---------------------------------------------------------------------------
// Events Rust emits: name → payload.

export type LockReason = 'user' | 'idle' | 'sleep' | 'screen-lock';

export interface EventMap {
  /** `renew`: the window is about to be replaced by a fresh one (its web process ends); show only a placeholder. */
  'vault-locked': { reason: LockReason; renew: boolean };
  'vault-unlocked': Record<string, never>;
  'vault-changed': { ids: ItemId[] };
  'clipboard-cleared': Record<string, never>;
  'settings-changed': Settings;
  'health-progress': { done: number; total: number };
  'quick-access-shown': Record<string, never>;
  'auto-type-choose': AutoTypeChoice;
  'auto-type-notice': AutoTypeNotice;
  'sync-status': SyncStatus;
  /** The session expired during a background sync: ask for the master password (once). */
  'sync-sign-in-needed': null;
  'browser-prompt': BrowserPrompt;
  'browser-prompt-closed': { id: number };
  'agent-prompt': AgentPrompt;
  'agent-prompt-closed': { id: number };
  // Tauri's own drag-and-drop events on the window (files from the desktop).
  'tauri://drag-enter': { paths: string[]; position: DropPosition };
  'tauri://drag-over': { position: DropPosition };
  'tauri://drag-drop': { paths: string[]; position: DropPosition };
  'tauri://drag-leave': null;
}
/** Where a drag is, in physical pixels of the window. */
export interface DropPosition {
  x: number;
  y: number;
}
export type EventName = keyof EventMap;

// ---------------------------------------------------------------------------
// Errors

export type ErrorKind =
  | 'wrong_password'
  | 'wrong_pin'
  | 'locked'
  | 'not_found'
  | 'conflict'
  | 'invalid'
  | 'factor_unavailable'
  | 'integrity'
  | 'io'
  | 'cancelled'
  | 'busy'
  | 'internal'
  | 'hostile'
  | 'sign_in_needed'
  | 'totp_required';

const ERROR_KINDS: readonly ErrorKind[] = [
  'wrong_password',
  'wrong_pin',
  'locked',
  'not_found',
  'conflict',
  'invalid',
  'factor_unavailable',
  'integrity',
  'io',
  'cancelled',
  'busy',
  'internal',
  'hostile',
  'sign_in_needed',
  'totp_required',
];

function asErrorKind(kind: unknown): ErrorKind {
  return ERROR_KINDS.find((k) => k === kind) ?? 'internal';
}

/** A failed command. Only `message` is ever shown to people. */
export class ApiError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
  }
}

/** Turns whatever a rejected invoke carried into an ApiError with a message for people. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (typeof e === 'object' && e !== null) {
    const rec = e as { kind?: unknown; message?: unknown };
    if (typeof rec.message === 'string' && rec.message !== '') {
      return new ApiError(asErrorKind(rec.kind), rec.message);
    }
  }
  if (typeof e === 'string' && e !== '') return new ApiError('internal', e);
  return new ApiError('internal', 'Something went wrong. Please try again.');
}

// ---------------------------------------------------------------------------
// Transport

export type Unlisten = () => void;

/** How commands reach Rust. Production uses Tauri; tests install a fake. */
export interface Transport {
  invoke(cmd: string, args: Record<string, unknown>): Promise<unknown>;
  listen(event: string, handler: (payload: unknown) => void): Promise<Unlisten>;
}

const tauriTransport: Transport = {
  invoke: (cmd, args) => tauriInvoke(cmd, args),
  listen: (event, handler) => tauriListen(event, (e) => handler(e.payload)),
};

let transport: Transport = tauriTransport;

/** Test-only hook: routes every command and event through `fake` (null restores Tauri). Refused outside Vitest. */
export function installTestTransport(fake: Transport | null): void {
  if (import.meta.env.MODE !== 'test') {
    throw new Error('installTestTransport is for tests only');
  }
  transport = fake ?? tauriTransport;
}

/** Calls a Rust command; a failure rejects with an ApiError. */
export async function call<K extends CommandName>(
  cmd: K,
  ...args: CommandMap[K]['args'] extends NoArgs ? [] : [CommandMap[K]['args']]
): Promise<CommandMap[K]['result']> {
  try {
    const payload: Record<string, unknown> = args[0] ?? {};
    return (await transport.invoke(cmd, payload)) as CommandMap[K]['result'];
  } catch (e) {
    throw toApiError(e);
  }
}

/** Listens for a Rust event; resolves to the function that stops listening. */
export function on<E extends EventName>(event: E, handler: (payload: EventMap[E]) => void): Promise<Unlisten> {
  return transport.listen(event, (payload) => handler(payload as EventMap[E]));
}

// ---------------------------------------------------------------------------
// Named helpers, one per command, for readable call sites.

export const api = {
  appState: () => call('app_state'),
  pickVaultPath: (mode: 'create' | 'open') => call('pick_vault_path', { mode }),
  createVault: (path: string, password: string) => call('create_vault', { path, password }),
  openVault: (path: string) => call('open_vault', { path }),
  unlockFactors: () => call('unlock_factors'),
  unlock: (credential: Credential) => call('unlock', { credential }),
  lock: () => call('lock'),
  passwordStrength: (password: string) => call('password_strength', { password }),

  searchItems: (query: string, scope: SearchScope, offset: number, limit: number, filter: ListFilter = {}) => {
    const { share, folder, tag } = filter;
    return call('search_items', {
      query,
      scope,
      offset,
      limit,
      // Only the filters in use: an unfiltered search is the plain four arguments.
      ...(share != null && { share }),
      ...(folder != null && { folder }),
      ...(tag != null && { tag }),
    });
  },
  getItem: (id: ItemId) => call('get_item', { id }),
  revealField: (id: ItemId, field: RevealableField) => call('reveal_field', { id, field }),
  copyField: (id: ItemId, field: FieldRef) => call('copy_field', { id, field }),
  totpCode: (id: ItemId) => call('totp_code', { id }),
  openUrl: (id: ItemId, index: number) => call('open_url', { id, index }),
  newItemTemplate: (type: ItemType) => call('new_item_template', { type }),
  getItemForEdit: (id: ItemId) => call('get_item_for_edit', { id }),
  createItem: (item: ItemDraft) => call('create_item', { item }),
  updateItem: (id: ItemId, baseRevision: number, item: ItemDraft) =>
    call('update_item', { id, baseRevision, item }),
  setFavourite: (id: ItemId, favourite: boolean) => call('set_favourite', { id, favourite }),
  trashItem: (id: ItemId) => call('trash_item', { id }),
  restoreItem: (id: ItemId) => call('restore_item', { id }),
  purgeItem: (id: ItemId) => call('purge_item', { id }),
  emptyTrash: () => call('empty_trash'),
  itemHistory: (id: ItemId) => call('item_history', { id }),
  restoreVersion: (id: ItemId, revision: number) => call('restore_version', { id, revision }),
  addAttachment: (id: ItemId) => call('add_attachment', { id }),
  removeAttachment: (id: ItemId, name: string) => call('remove_attachment', { id, name }),
  saveAttachment: (id: ItemId, name: string) => call('save_attachment', { id, name }),
  attachmentLimit: () => call('attachment_limit'),
  attachFiles: (id: ItemId, paths: string[]) => call('attach_files', { id, paths }),
  openAttachment: (id: ItemId, name: string) => call('open_attachment', { id, name }),

  generatePassword: (options: GeneratorOptions) => call('generate_password', { options }),
  copyText: (text: string) => call('copy_text', { text }),
  healthReport: () => call('health_report'),
  auditLog: (beforeSeq: number | null, limit: number) => call('audit_log', { beforeSeq, limit }),

  getSettings: () => call('get_settings'),
  updateSettings: (settings: Settings) => call('update_settings', { settings }),
  listSlots: () => call('list_slots'),
  addSlot: (request: AddSlotRequest) => call('add_slot', { request }),
  removeSlot: (slot: number) => call('remove_slot', { slot }),
  changeMasterPassword: (currentPassword: string, newPassword: string) =>
    call('change_master_password', { currentPassword, newPassword }),
  pickImportFile: () => call('pick_import_file'),
  importItems: (path: string, format: ImportFormat | null, password: string | null, folder: string | null) =>
    call('import_items', { path, format, password, folder }),
  exportVault: (format: ExportFormat, password: string | null) => call('export_vault', { format, password }),
  syncStatus: () => call('sync_status'),
  syncNow: () => call('sync_now'),
  syncRegister: (server: string, email: string, password: string) => call('sync_register', { server, email, password }),
  syncSignIn: (password: string, totp: string | null) => call('sync_sign_in', { password, totp }),
  syncJoin: (path: string, server: string, email: string, secretKey: string, password: string, totp: string | null) =>
    call('sync_join', { path, server, email, secretKey, password, totp }),
  syncReadKitFile: () => call('sync_read_kit_file'),
  syncKit: () => call('sync_kit'),
  syncSaveKitPdf: () => call('sync_save_kit_pdf'),
  syncDevices: () => call('sync_devices'),
  syncRevokeDevice: (id: string) => call('sync_revoke_device', { id }),
  syncConflicts: () => call('sync_conflicts'),
  syncResolveConflict: (id: ItemId, keep: ConflictKeep) => call('sync_resolve_conflict', { id, keep }),
  syncSignOut: () => call('sync_sign_out'),

  browserStatus: () => call('browser_status'),
  browserRevoke: (name: string) => call('browser_revoke', { name }),
  browserSites: () => call('browser_sites'),
  browserForgetSite: (itemId: ItemId, host: string) => call('browser_forget_site', { itemId, host }),
  browserPrompts: () => call('browser_prompts'),
  browserAnswer: (id: number, answer: BrowserAnswer | null) => call('browser_answer', { id, answer }),

  sshGenerateKey: (kind: SshKeyKind, comment: string) => call('ssh_generate_key', { kind, comment }),
  sshImportKey: (content: string, passphrase: string | null) => call('ssh_import_key', { content, passphrase }),
  agentStatus: () => call('agent_status'),
  agentPrompts: () => call('agent_prompts'),
  agentAnswer: (id: number, decision: AgentDecision | null) => call('agent_answer', { id, decision }),

  totpScanScreen: () => call('totp_scan_screen'),
  pickQrImage: () => call('pick_qr_image'),
  totpScanFile: (path: string) => call('totp_scan_file', { path }),

  identityInfo: () => call('identity_info'),
  identityVerify: (email: string, fingerprint: string) => call('identity_verify', { email, fingerprint }),
  identityScanScreen: (email: string | null) => call('identity_scan_screen', { email }),
  identityScanFile: (path: string, email: string | null) => call('identity_scan_file', { path, email }),
  shareList: () => call('share_list'),
  shareCreate: (name: string, requireVerified: boolean) => call('share_create', { name, requireVerified }),
  shareInvite: (name: string, email: string, role: ShareRole) => call('share_invite', { name, email, role }),
  shareInvitation: (id: string) => call('share_invitation', { id }),
  shareAccept: (id: string) => call('share_accept', { id }),
  shareDecline: (id: string) => call('share_decline', { id }),
  shareMembers: (name: string) => call('share_members', { name }),
  shareRemove: (name: string, email: string) => call('share_remove', { name, email }),
  shareLeave: (name: string) => call('share_leave', { name }),
  itemSetShare: (id: ItemId, share: string | null) => call('item_set_share', { id, share }),

  folderTree: () => call('folder_tree'),
  tagCounts: () => call('tag_counts'),
  moveItems: (ids: ItemId[], folder: string) => call('move_items', { ids, folder }),
  renameFolder: (from: string, to: string) => call('rename_folder', { from, to }),
  deleteFolder: (path: string) => call('delete_folder', { path }),

  quickAccessHide: () => call('quick_access_hide'),
  autoTypeChoose: (request: number, id: ItemId | null) => call('auto_type_choose', { request, id }),
  showMainWindow: () => call('show_main_window'),
  userActive: () => call('user_active'),
} as const;
