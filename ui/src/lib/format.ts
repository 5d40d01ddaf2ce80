// Dates, sizes and durations for people, in the user's locale.

import type { UnixSeconds } from '../api';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function formatDateTime(at: UnixSeconds): string {
  return dateTime.format(new Date(at * 1000));
}

export function formatDate(at: UnixSeconds): string {
  return dateOnly.format(new Date(at * 1000));
}

/** "3 days ago", "in 2 months". */
export function formatRelative(at: UnixSeconds, now: number = Date.now() / 1000): string {
  const diff = at - now;
  const abs = Math.abs(diff);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['year', 365 * 86400],
    ['month', 30 * 86400],
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, secs] of units) {
    if (abs >= secs) return relative.format(Math.round(diff / secs), unit);
  }
  return relative.format(0, 'minute');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n;
  let unit = 'B';
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${unit}`;
}

/** A unix time as the value of an <input type="date"> (local date), or ''. */
export function toDateInput(at: UnixSeconds | null): string {
  if (at === null) return '';
  const d = new Date(at * 1000);
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The value of an <input type="date"> as the end of that local day, or null. */
export function fromDateInput(value: string): UnixSeconds | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59);
  return Math.floor(d.getTime() / 1000);
}
