/**
 * Calendar dates as integer day numbers (days since 1970-01-01, proleptic Gregorian, no time
 * zone), which is what the generator computes with; text only at the edge ('YYYY-MM-DD').
 */

/** Day number of a calendar date (Howard Hinnant's days_from_civil). */
export function dayFromYmd(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** [year, month (1-12), day] of a day number (civil_from_days). */
export function ymdFromDay(day: number): [number, number, number] {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

export const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
export const daysInMonth = (y: number, m: number) => (m === 2 ? (isLeapYear(y) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 30);

/** Parses 'YYYY-MM-DD' strictly; undefined when it is not a real date. */
export function parseIsoDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  return dayFromYmd(y, mo, d);
}

const CACHE_FROM = dayFromYmd(1850, 1, 1);
const CACHE_TO = dayFromYmd(2150, 1, 1);
const isoCache: (string | undefined)[] = [];
const compactCache: (string | undefined)[] = [];
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** 'YYYY-MM-DD' of a day number (memoised: the generator formats millions of dates). */
export function formatDay(day: number): string {
  const i = day - CACHE_FROM;
  if (i >= 0 && day < CACHE_TO) {
    const hit = isoCache[i];
    if (hit !== undefined) return hit;
  }
  const [y, m, d] = ymdFromDay(day);
  const text = `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}`;
  if (i >= 0 && day < CACHE_TO) isoCache[i] = text;
  return text;
}

/** 'YYYYMMDD' (the birth-date field of a GB 11643 ID number). */
export function compactDay(day: number): string {
  const i = day - CACHE_FROM;
  if (i >= 0 && day < CACHE_TO) {
    const hit = compactCache[i];
    if (hit !== undefined) return hit;
  }
  const [y, m, d] = ymdFromDay(day);
  const text = `${String(y).padStart(4, '0')}${pad2(m)}${pad2(d)}`;
  if (i >= 0 && day < CACHE_TO) compactCache[i] = text;
  return text;
}

/** `day + n months`, clamping the day of month like Postgres (`date '2024-03-31' - interval '1 month'` = 2024-02-29). */
export function addMonths(day: number, n: number): number {
  const [y, m, d] = ymdFromDay(day);
  const total = y * 12 + (m - 1) + n;
  const ny = Math.floor(total / 12);
  const nm = total - ny * 12 + 1;
  return dayFromYmd(ny, nm, Math.min(d, daysInMonth(ny, nm)));
}

export const addYears = (day: number, n: number) => addMonths(day, 12 * n);

/** First day of the day's month. */
export function monthStart(day: number): number {
  const [y, m] = ymdFromDay(day);
  return dayFromYmd(y, m, 1);
}

/** Full years from birth to `at` (Postgres `extract(year from age(at, birth))`). */
export function ageAt(birth: number, at: number): number {
  const [by, bm, bd] = ymdFromDay(birth);
  const [ay, am, ad] = ymdFromDay(at);
  return ay - by - (am < bm || (am === bm && ad < bd) ? 1 : 0);
}
