import { formatRemaining } from '../../client-sdk/src/index.js';

export function money(cents: number, currency: string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: cents % 100 === 0 ? 0 : 2 }).format(cents / 100);
}

export function priceRange(minCents: number, maxCents: number, currency: string): string {
  return minCents === maxCents ? money(minCents, currency) : `${money(minCents, currency)} to ${money(maxCents, currency)}`;
}

export function dateTime(iso: string | number): string {
  return new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** "7:59" style countdown text, from the SDK. */
export const remaining = formatRemaining;

/** "about 2 minutes" for a queue ETA. */
export function eta(seconds: number | null): string {
  if (seconds === null) return 'unknown';
  if (seconds < 5) return 'a few seconds';
  if (seconds < 60) return `about ${Math.round(seconds)} seconds`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} minute${minutes === 1 ? '' : 's'}`;
  return `about ${(seconds / 3600).toFixed(1)} hours`;
}

export function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;
}
