/**
 * Citizen ID numbers (GB 11643-1999): 6-digit administrative region code, 8-digit birth date
 * (YYYYMMDD), 3-digit sequence (odd for men, even for women), and an ISO 7064 MOD 11-2 check
 * character ('0'-'9' or 'X' for 10).
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character for each value of (Σ digit × weight) mod 11. */
const CHECK_CHARS = '10X98765432';

/** The ISO 7064 MOD 11-2 check character of the first 17 digits. */
export function checkCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARS.charAt(sum % 11);
}

/** Builds an ID number from its parts; `sequence` 0 … 999 carries the sex in its parity. */
export function makeIdNumber(regionCode: string, birthYmd: string, sequence: number): string {
  const first17 = regionCode + birthYmd + (sequence < 10 ? '00' : sequence < 100 ? '0' : '') + sequence;
  const id = first17 + checkCharacter(first17);
  id.charCodeAt(0); // store flat: an ID number goes into many rows (see dates.ts flat())
  return id;
}

/** True when the text is a well-formed GB 11643 number: digits, a real birth date, a valid check character. */
export function isValidIdNumber(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  if (id.startsWith('000000')) return false;
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (y < 1850 || y > 2150 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = m === 2 ? (leap ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
  if (d > dim) return false;
  return checkCharacter(id.slice(0, 17)) === id.charAt(17);
}

/** Sex encoded by the sequence digits: odd = male, even = female. */
export function sexOfIdNumber(id: string): 'M' | 'F' {
  return (id.charCodeAt(16) - 48) % 2 === 1 ? 'M' : 'F';
}

/** 'YYYY-MM-DD' birth date encoded in the number. */
export function birthDateOfIdNumber(id: string): string {
  return `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
}
