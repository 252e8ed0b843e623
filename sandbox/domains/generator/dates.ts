/**
 * Returns the string after making V8 store it flat. A string built by concatenation is a tree of
 * pieces; reading a character flattens it in place, so a string that goes into many rows (a
 * cached date, an ID number, a geography code list) is copied, not re-walked, at every flush.
 */
export function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

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

/*
 * Dense tables for 1850-01-01 … 2149-12-31 (the generator works millions of times with dates in
 * that range): packed y/m/d per day, the first day of each month, and the formatted texts.
 */
const TABLE_FROM_YEAR = 1850;
const TABLE_YEARS = 300;
const CACHE_FROM = dayFromYmd(TABLE_FROM_YEAR, 1, 1);
const CACHE_TO = dayFromYmd(TABLE_FROM_YEAR + TABLE_YEARS, 1, 1);
/** (year << 9) | (month << 5) | day, by day − CACHE_FROM. */
const packed = new Int32Array(CACHE_TO - CACHE_FROM);
/** Day number of the first of each month, by (year − 1850) × 12 + month − 1. */
const monthStarts = new Int32Array(TABLE_YEARS * 12 + 1);
for (let y = TABLE_FROM_YEAR, i = 0; y < TABLE_FROM_YEAR + TABLE_YEARS; y++) {
  for (let m = 1; m <= 12; m++, i++) {
    const first = dayFromYmd(y, m, 1);
    monthStarts[i] = first;
    const dim = daysInMonth(y, m);
    for (let d = 1; d <= dim; d++) packed[first - CACHE_FROM + d - 1] = (y << 9) | (m << 5) | d;
  }
}
monthStarts[TABLE_YEARS * 12] = CACHE_TO;
const isoCache: (string | undefined)[] = Array.from({ length: CACHE_TO - CACHE_FROM }, () => undefined);
const compactCache: (string | undefined)[] = Array.from({ length: CACHE_TO - CACHE_FROM }, () => undefined);
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const inTable = (day: number) => day >= CACHE_FROM && day < CACHE_TO;

/** 'YYYY-MM-DD' of a day number (memoised: the generator formats millions of dates). */
export function formatDay(day: number): string {
  if (!inTable(day)) {
    const [y, m, d] = ymdFromDay(day);
    return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}`;
  }
  const i = day - CACHE_FROM;
  const hit = isoCache[i];
  if (hit !== undefined) return hit;
  const v = packed[i] ?? 0;
  const text = flat(`${v >> 9}-${pad2((v >> 5) & 15)}-${pad2(v & 31)}`);
  isoCache[i] = text;
  return text;
}

/** 'YYYYMMDD' (the birth-date field of a GB 11643 ID number). */
export function compactDay(day: number): string {
  if (!inTable(day)) {
    const [y, m, d] = ymdFromDay(day);
    return `${String(y).padStart(4, '0')}${pad2(m)}${pad2(d)}`;
  }
  const i = day - CACHE_FROM;
  const hit = compactCache[i];
  if (hit !== undefined) return hit;
  const v = packed[i] ?? 0;
  const text = flat(`${v >> 9}${pad2((v >> 5) & 15)}${pad2(v & 31)}`);
  compactCache[i] = text;
  return text;
}

/** `day + n months`, clamping the day of month like Postgres (`date '2024-03-31' - interval '1 month'` = 2024-02-29). */
export function addMonths(day: number, n: number): number {
  if (inTable(day)) {
    const v = packed[day - CACHE_FROM] ?? 0;
    const mi = ((v >> 9) - TABLE_FROM_YEAR) * 12 + ((v >> 5) & 15) - 1 + n;
    if (mi >= 0 && mi < TABLE_YEARS * 12) {
      const first = monthStarts[mi] ?? 0;
      const dim = (monthStarts[mi + 1] ?? 0) - first;
      return first + Math.min(v & 31, dim) - 1;
    }
  }
  const [y, m, d] = ymdFromDay(day);
  const total = y * 12 + (m - 1) + n;
  const ny = Math.floor(total / 12);
  const nm = total - ny * 12 + 1;
  return dayFromYmd(ny, nm, Math.min(d, daysInMonth(ny, nm)));
}

export const addYears = (day: number, n: number) => addMonths(day, 12 * n);

/** First day of the day's month. */
export function monthStart(day: number): number {
  if (inTable(day)) return day - ((packed[day - CACHE_FROM] ?? 1) & 31) + 1;
  const [y, m] = ymdFromDay(day);
  return dayFromYmd(y, m, 1);
}

/** Full years from birth to `at` (Postgres `extract(year from age(at, birth))`). */
export function ageAt(birth: number, at: number): number {
  if (inTable(birth) && inTable(at)) {
    const b = packed[birth - CACHE_FROM] ?? 0;
    const a = packed[at - CACHE_FROM] ?? 0;
    // month/day compare on the low 9 bits
    return (a >> 9) - (b >> 9) - ((a & 511) < (b & 511) ? 1 : 0);
  }
  const [by, bm, bd] = ymdFromDay(birth);
  const [ay, am, ad] = ymdFromDay(at);
  return ay - by - (am < bm || (am === bm && ad < bd) ? 1 : 0);
}
