/**
 * Pure calendar helpers on ISO dates ("YYYY-MM-DD"), UTC only: no time zone,
 * no clock, no locale.
 */

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface CalendarDate {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function isValidCalendarDate(year: number, month: number, day: number): boolean {
  return (
    Number.isInteger(year) &&
    Number.isInteger(month) &&
    Number.isInteger(day) &&
    year >= 1 &&
    year <= 9999 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

/** "2025-05-05" for (2025, 5, 5). The caller guarantees a valid date. */
export function toIsoDate(year: number, month: number, day: number): string {
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** Strict parse of "YYYY-MM-DD"; null for anything else, including 2025-02-30. */
export function parseIsoDate(text: string): CalendarDate | null {
  const match = ISO_DATE.exec(text);
  if (!match) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  return isValidCalendarDate(year, month, day) ? { year, month, day } : null;
}

export function isIsoDate(text: string): boolean {
  return parseIsoDate(text) !== null;
}

/** The dates the archive accepts everywhere (PostgreSQL, JavaScript and ISO 8601 all agree there). */
export const DATE_RANGE = { min: '1900-01-01', max: '9999-12-31' } as const;

/** Whether `text` is an ISO date (YYYY-MM-DD) within DATE_RANGE. */
export function isIsoDateInRange(text: string): boolean {
  return isIsoDate(text) && text >= DATE_RANGE.min && text <= DATE_RANGE.max;
}

function toEpochDay(date: CalendarDate): number {
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear avoids that.
  const d = new Date(0);
  d.setUTCFullYear(date.year, date.month - 1, date.day);
  return Math.round(d.getTime() / DAY_MS);
}

function fromEpochDay(epochDay: number): CalendarDate {
  const d = new Date(epochDay * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function requireIso(text: string): CalendarDate {
  const date = parseIsoDate(text);
  if (!date) throw new RangeError(`not an ISO date (YYYY-MM-DD): ${JSON.stringify(text)}`);
  return date;
}

/** addDays("2025-12-29", 6) === "2026-01-04". */
export function addDays(iso: string, days: number): string {
  const date = fromEpochDay(toEpochDay(requireIso(iso)) + days);
  return toIsoDate(date.year, date.month, date.day);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return toEpochDay(requireIso(to)) - toEpochDay(requireIso(from));
}
