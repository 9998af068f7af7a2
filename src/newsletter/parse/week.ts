/**
 * The week of an edition: read from the title's "DD/MM to DD/MM" range, the
 * year named in the text (or options.year), a "First Week of May" phrase, the
 * Markdown week comment, and the editor's overrides, which win.
 */
import {
  addDays,
  daysBetween,
  daysInMonth,
  isIsoDate,
  isValidCalendarDate,
  parseIsoDate,
  toIsoDate,
} from '../dates.js';
import { UNKNOWN_DATE } from '../markdown.js';
import type { ParseOptions } from '../types.js';
import { type SourceLine, type Warn, excerpt } from './lines.js';

export interface Week {
  start: string | null;
  end: string | null;
}

interface DayMonthRange {
  startDay: number;
  startMonth: number;
  endDay: number;
  endMonth: number;
  text: string;
}

interface WeekPhrase {
  line: number;
  text: string;
  /** 1–5, or -1 for "last". */
  ordinal: number;
  month: number;
  year: number | null;
}

export interface WeekContext {
  title: SourceLine;
  /** Title, subtitle and intro: where a year or "First Week of May 2025" may be named. */
  textLines: SourceLine[];
  /** Markdown `<!-- week: … -->`, authoritative when present. */
  comment: (Week & { line: number }) | null;
  options: ParseOptions;
  warn: Warn;
}

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const ORDINALS: Readonly<Record<string, number>> = {
  first: 1,
  '1st': 1,
  second: 2,
  '2nd': 2,
  third: 3,
  '3rd': 3,
  fourth: 4,
  '4th': 4,
  fifth: 5,
  '5th': 5,
  last: -1,
};
/** "05/05 to 11/05" (day/month); bounded repetitions only, so no backtracking blow-up. */
export const WEEK_RANGE = /\b(\d{1,2})\/(\d{1,2})[ \t]{0,8}(?:to|until|-|–|—)[ \t]{0,8}(\d{1,2})\/(\d{1,2})\b/i;
const WEEK_PHRASE = new RegExp(
  `\\b(${Object.keys(ORDINALS).join('|')})[ \\t]{1,8}week[ \\t]{1,8}of[ \\t]{1,8}(${MONTHS.join('|')})\\b` +
    `(?:,?[ \\t]{0,8}((?:19|20)\\d{2})\\b)?`,
  'i',
);
const YEAR = /\b(?:19|20)\d{2}\b/g;

function readTitleRange(title: SourceLine, warn: Warn): DayMonthRange | null {
  const match = WEEK_RANGE.exec(title.text);
  if (!match) return null;
  const [text, sd, sm, ed, em] = match as unknown as [string, string, string, string, string];
  const range = { startDay: Number(sd), startMonth: Number(sm), endDay: Number(ed), endMonth: Number(em), text };
  const plausible = (day: number, month: number): boolean => day >= 1 && day <= 31 && month >= 1 && month <= 12;
  if (!plausible(range.startDay, range.startMonth) || !plausible(range.endDay, range.endMonth)) {
    warn(title.line, `the week range ${excerpt(text)} in the title is not a valid DD/MM to DD/MM range`);
    return null;
  }
  return range;
}

function findWeekPhrase(lines: SourceLine[]): WeekPhrase | null {
  for (const source of lines) {
    const match = WEEK_PHRASE.exec(source.text);
    if (!match) continue;
    const [text, ordinal, month, year] = match as unknown as [string, string, string, string | undefined];
    return {
      line: source.line,
      text,
      ordinal: ORDINALS[ordinal.toLowerCase()] ?? 1,
      month: MONTHS.indexOf(month.toLowerCase()) + 1,
      year: year === undefined ? null : Number(year),
    };
  }
  return null;
}

/**
 * Rule: the year comes from the text ("First Week of May 2025" first, else the
 * first 19xx/20xx in title, subtitle, intro), else from options.year.
 */
function determineYear(ctx: WeekContext, phrase: WeekPhrase | null): number | null {
  const years: { line: number; year: number }[] = [];
  for (const source of ctx.textLines) {
    for (const match of source.text.matchAll(YEAR)) years.push({ line: source.line, year: Number(match[0]) });
  }
  const first = years[0];
  const textYear = phrase?.year ?? first?.year ?? null;
  const distinct = [...new Set(years.map((y) => y.year))];
  if (first && distinct.length > 1) {
    ctx.warn(first.line, `several years are named (${distinct.join(', ')}); using ${textYear}`);
  }
  const optionYear = ctx.options.year;
  if (textYear !== null) {
    if (optionYear !== undefined && optionYear !== textYear) {
      ctx.warn(
        ctx.title.line,
        `options.year ${optionYear} differs from the year ${textYear} named in the text; using ${textYear}`,
      );
    }
    return textYear;
  }
  return optionYear ?? null;
}

/**
 * Rule: a range from December to January wraps the year. The year found is the
 * start's year, unless the text names a week of January (then it is the end's).
 */
function datesFromRange(range: DayMonthRange, year: number, phrase: WeekPhrase | null): Week | null {
  const wraps = range.startMonth === 12 && range.endMonth === 1;
  let startYear = year;
  let endYear = year;
  if (wraps && phrase?.month === 1) startYear = year - 1;
  else if (wraps) endYear = year + 1;
  if (!isValidCalendarDate(startYear, range.startMonth, range.startDay)) return null;
  if (!isValidCalendarDate(endYear, range.endMonth, range.endDay)) return null;
  return {
    start: toIsoDate(startYear, range.startMonth, range.startDay),
    end: toIsoDate(endYear, range.endMonth, range.endDay),
  };
}

/** Rule: a week is 7 days (end = start + 6) and does not end before it starts. */
function checkWeekLength(start: string, end: string, line: number, source: string, warn: Warn): void {
  const days = daysBetween(start, end);
  if (days < 0) warn(line, `${source}: the week ends (${end}) before it starts (${start})`);
  else if (days !== 6) warn(line, `${source}: the week ${start}..${end} spans ${days + 1} days, not 7`);
}

/**
 * Rule: when the text names "Nth Week of Month", the week must start within 6
 * days of that week's first day (day 7N-6; "last" = last day - 6).
 */
function checkWeekPhrase(week: Week, phrase: WeekPhrase, year: number, warn: Warn): void {
  if (week.start === null) return;
  const phraseYear = phrase.year ?? year;
  const lastDay = daysInMonth(phraseYear, phrase.month);
  const firstDay = phrase.ordinal === -1 ? lastDay - 6 : Math.min(7 * phrase.ordinal - 6, lastDay - 6);
  const anchor = toIsoDate(phraseYear, phrase.month, firstDay);
  if (Math.abs(daysBetween(anchor, week.start)) > 6) {
    warn(phrase.line, `the text names the ${excerpt(phrase.text)} but the title's week is ${week.start}..${week.end}`);
  }
}

function optionDate(name: 'weekStart' | 'weekEnd', value: string): string {
  if (!parseIsoDate(value)) {
    throw new RangeError(`options.${name} must be an ISO date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Week from the title and text (or the Markdown week comment), before editor overrides. */
function weekFromDocument(ctx: WeekContext): Week {
  const range = readTitleRange(ctx.title, ctx.warn);
  if (ctx.comment) {
    const { start, end, line } = ctx.comment;
    const same = (iso: string | null, day: number, month: number): boolean => {
      const date = iso === null ? null : parseIsoDate(iso);
      return date !== null && date.day === day && date.month === month;
    };
    if (range && (!same(start, range.startDay, range.startMonth) || !same(end, range.endDay, range.endMonth))) {
      const comment = `${start ?? UNKNOWN_DATE}..${end ?? UNKNOWN_DATE}`;
      ctx.warn(ctx.title.line, `the title's range ${excerpt(range.text)} differs from the week comment ${comment}`);
    }
    if (start !== null && end !== null) checkWeekLength(start, end, line, 'week comment', ctx.warn);
    return { start, end };
  }
  const overridden = ctx.options.weekStart !== undefined;
  if (!range) {
    if (!overridden) {
      ctx.warn(ctx.title.line, 'the title names no week range "DD/MM to DD/MM"; weekStart/weekEnd are empty');
    }
    return { start: null, end: null };
  }
  const phrase = findWeekPhrase(ctx.textLines);
  const year = determineYear(ctx, phrase);
  if (year === null) {
    // Rule: no year in the text and no options.year → null dates and a warning.
    if (!overridden) {
      ctx.warn(
        ctx.title.line,
        'the year of the week cannot be determined; pass options.year or options.weekStart ' +
          '(weekStart/weekEnd are empty)',
      );
    }
    return { start: null, end: null };
  }
  const week = datesFromRange(range, year, phrase);
  if (!week) {
    ctx.warn(ctx.title.line, `the title's range ${excerpt(range.text)} is not a valid date range in ${year}`);
    return { start: null, end: null };
  }
  checkWeekLength(week.start ?? '', week.end ?? '', ctx.title.line, `title ${excerpt(range.text)}`, ctx.warn);
  if (phrase) checkWeekPhrase(week, phrase, year, ctx.warn);
  return week;
}

/**
 * Rule: options.weekStart / options.weekEnd override what the document says;
 * weekEnd defaults to weekStart + 6 days (weekStart to weekEnd - 6 days when
 * only weekEnd is given and the document has no start).
 */
export function resolveWeek(ctx: WeekContext): Week {
  const { weekStart, weekEnd, year } = ctx.options;
  if (year !== undefined && (!Number.isInteger(year) || year < 1 || year > 9999)) {
    throw new RangeError(`options.year must be an integer year, got ${year}`);
  }
  const fromDocument = weekFromDocument(ctx);
  if (weekStart === undefined && weekEnd === undefined) return fromDocument;
  const start = weekStart === undefined ? undefined : optionDate('weekStart', weekStart);
  const end = weekEnd === undefined ? undefined : optionDate('weekEnd', weekEnd);
  const finalStart = start ?? fromDocument.start ?? (end === undefined ? null : addDays(end, -6));
  const finalEnd = end ?? (start === undefined ? fromDocument.end : addDays(start, 6));
  // (a bound computed past year 9999 is no ISO date: the importer rejects the week, nothing to measure)
  if (finalStart !== null && finalEnd !== null && isIsoDate(finalStart) && isIsoDate(finalEnd)) {
    checkWeekLength(finalStart, finalEnd, ctx.title.line, 'options', ctx.warn);
  }
  return { start: finalStart, end: finalEnd };
}
