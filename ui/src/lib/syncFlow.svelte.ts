// The sync steps that cross screens: the sign-in dialog (asked for by the
// `sync-sign-in-needed` event or a sync that failed with 'sign_in_needed',
// shown by MainScreen once however often it is asked for), and Settings'
// "Lock and sign in…", which must lead to the join form after the lock
// even though locking replaces the window (DESIGN §6) and with it every
// JavaScript value: that one intent goes through localStorage.

class SignInRequest {
  /** The sign-in dialog is open. */
  open = $state(false);

  /** Opens the dialog; a second request while it is open changes nothing. */
  request(): void {
    this.open = true;
  }

  close(): void {
    this.open = false;
  }
}

export const syncSignIn = new SignInRequest();

class LinkChanges {
  /** Bumped when this vault was linked to an account or unlinked from it here. */
  version = $state(0);

  changed(): void {
    this.version++;
  }
}

/** Settings linked or unlinked the vault: the status line asks `sync_status` again rather than wait for an event. */
export const syncLink = new LinkChanges();

const JOIN_KEY = 'tessera.syncJoinAfterLock';
/** The intent outlives the lock and the window's renewal, not a crash: a later start ignores it. */
const JOIN_VALID_MS = 60_000;

/** Settings' "Lock and sign in…": the next locked screen is the join form. Holds no secret. */
export function requestJoinAfterLock(now: number = Date.now()): void {
  try {
    localStorage.setItem(JOIN_KEY, String(now));
  } catch {
    // No storage: the unlock screen still offers "Sign in to a sync account instead".
  }
}

/** Whether the join form was asked for just before this lock; forgets the request either way. */
export function takeJoinAfterLock(now: number = Date.now()): boolean {
  try {
    const at = Number(localStorage.getItem(JOIN_KEY));
    localStorage.removeItem(JOIN_KEY);
    return Number.isFinite(at) && at > 0 && now - at >= 0 && now - at < JOIN_VALID_MS;
  } catch {
    return false;
  }
}
