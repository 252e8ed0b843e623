import { describe, expect, it } from 'vitest';
import { addMonths, addYears, ageAt, compactDay, dayFromYmd, daysInMonth, formatDay, monthStart, parseIsoDate, ymdFromDay } from './dates.ts';

describe('calendar day numbers', () => {
  it('round-trips dates and formats them', () => {
    expect(dayFromYmd(1970, 1, 1)).toBe(0);
    expect(formatDay(dayFromYmd(2026, 6, 30))).toBe('2026-06-30');
    expect(compactDay(dayFromYmd(1949, 12, 31))).toBe('19491231');
    expect(parseIsoDate('2024-02-29')).toBe(dayFromYmd(2024, 2, 29));
    expect(parseIsoDate('2023-02-29')).toBeUndefined();
    expect(parseIsoDate('2026-6-30')).toBeUndefined();
    expect(formatDay(dayFromYmd(1700, 3, 1))).toBe('1700-03-01'); // outside the tables
  });

  it('adds months like Postgres intervals (clamping to the month end)', () => {
    expect(formatDay(addMonths(dayFromYmd(2026, 6, 30), -12))).toBe('2025-06-30');
    expect(formatDay(addMonths(dayFromYmd(2024, 3, 31), -1))).toBe('2024-02-29');
    expect(formatDay(addMonths(dayFromYmd(2024, 2, 29), -12))).toBe('2023-02-28');
    expect(formatDay(addYears(dayFromYmd(2000, 2, 29), 1))).toBe('2001-02-28');
    expect(formatDay(monthStart(dayFromYmd(2026, 6, 30)))).toBe('2026-06-01');
  });

  it('computes full years of age like extract(year from age(at, birth))', () => {
    const at = dayFromYmd(2026, 6, 30);
    expect(ageAt(dayFromYmd(2000, 6, 30), at)).toBe(26);
    expect(ageAt(dayFromYmd(2000, 7, 1), at)).toBe(25);
    expect(ageAt(dayFromYmd(2000, 2, 29), dayFromYmd(2026, 2, 28))).toBe(25);
    expect(ageAt(dayFromYmd(2000, 2, 29), dayFromYmd(2026, 3, 1))).toBe(26);
  });

  it('agrees with plain arithmetic across two centuries (table fast paths)', () => {
    let checked = 0;
    for (let day = dayFromYmd(1899, 1, 1); day < dayFromYmd(2101, 1, 1); day += 13) {
      const [y, m, d] = ymdFromDay(day);
      expect(dayFromYmd(y, m, d)).toBe(day);
      for (const n of [-1212, -12, -1, 1, 14]) {
        const total = y * 12 + (m - 1) + n;
        const ny = Math.floor(total / 12);
        const nm = total - ny * 12 + 1;
        expect(addMonths(day, n)).toBe(dayFromYmd(ny, nm, Math.min(d, daysInMonth(ny, nm))));
      }
      const at = day + 9_999;
      const [ay, am, ad] = ymdFromDay(at);
      expect(ageAt(day, at)).toBe(ay - y - (am < m || (am === m && ad < d) ? 1 : 0));
      checked++;
    }
    expect(checked).toBeGreaterThan(5000);
  });
});
