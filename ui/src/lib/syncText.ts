// What the sync status says, in a few words: the main window's status
// line and Settings → Sync account share these so the two never disagree.

import type { SyncStateName, SyncStatus, UnixSeconds } from '../api';

/** The state as Settings names it. */
export const SYNC_STATE_NAMES: Record<SyncStateName, string> = {
  idle: 'Up to date',
  syncing: 'Syncing…',
  offline: 'Offline',
  error: 'Problem',
  sign_in: 'Sign-in needed',
  hostile: 'Server data failed verification',
};

/** "just now", "2 min ago", "3 h ago", "4 days ago". */
export function agoShort(at: UnixSeconds, now: number): string {
  const secs = Math.max(0, Math.round(now - at));
  if (secs < 60) return 'just now';
  if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
  if (secs < 86400) return `${Math.floor(secs / 3600)} h ago`;
  const days = Math.floor(secs / 86400);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

/** "in 40 s", "in 3 min"; "now" once the time has come. */
export function inShort(at: UnixSeconds, now: number): string {
  const secs = Math.round(at - now);
  if (secs <= 0) return 'now';
  if (secs < 90) return `in ${secs} s`;
  return `in ${Math.round(secs / 60)} min`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The status line's one line: "Synced 2 min ago", "Offline — retrying in 40 s", … */
export function statusLine(s: SyncStatus, now: number): string {
  const retry = s.nextAttemptAt === null ? '' : ` — retrying ${inShort(s.nextAttemptAt, now)}`;
  switch (s.state) {
    case 'syncing':
      return 'Syncing…';
    case 'offline':
      return `Offline${retry}`;
    case 'error':
      return `Sync failed${retry}`;
    case 'sign_in':
      return 'Sign in to sync';
    case 'hostile':
      return 'Server problem — see Settings';
    case 'idle':
      if (s.pending > 0) return `${plural(s.pending, 'change', 'changes')} waiting`;
      if (s.conflicts > 0) return `${plural(s.conflicts, 'conflict', 'conflicts')} to review`;
      return s.lastSyncAt === null ? 'Not synced yet' : `Synced ${agoShort(s.lastSyncAt, now)}`;
  }
}
