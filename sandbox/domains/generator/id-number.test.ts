import { describe, expect, it } from 'vitest';
import { birthDateOfIdNumber, checkCharacter, isValidIdNumber, makeIdNumber, sexOfIdNumber } from './id-number.ts';

describe('GB 11643 ID numbers', () => {
  it('computes the ISO 7064 MOD 11-2 check character (worked by hand)', () => {
    // The standard's own example, 11010519491231002X:
    //   digits   1  1  0  1  0  5  1  9  4  9  1  2  3  1  0  0  2
    //   weights  7  9 10  5  8  4  2  1  6  3  7  9 10  5  8  4  2
    //   products 7  9  0  5  0 20  2  9 24 27  7 18 30  5  0  0  4  → Σ = 167
    //   167 mod 11 = 2 → '10X98765432'[2] = 'X'
    expect(checkCharacter('11010519491231002')).toBe('X');
    // The standard's second example, 440524188001010014:
    //   4·7 + 4·9 + 0·10 + 5·5 + 2·8 + 4·4 + 1·2 + 8·1 + 8·6 + 0·3 + 0·7 + 1·9 + 0·10 + 1·5 + 0·8 + 0·4 + 1·2
    //   = 28 + 36 + 0 + 25 + 16 + 16 + 2 + 8 + 48 + 0 + 0 + 9 + 0 + 5 + 0 + 0 + 2 = 195; 195 mod 11 = 8 → '4'
    expect(checkCharacter('44052418800101001')).toBe('4');
    // A Tianhe (440106) man born 1990-03-07, sequence 123:
    //   28 + 36 + 0 + 5 + 0 + 24 + 2 + 9 + 54 + 0 + 0 + 27 + 0 + 35 + 8 + 8 + 6 = 242; 242 mod 11 = 0 → '1'
    expect(checkCharacter('44010619900307123')).toBe('1');
  });

  it('builds numbers with a zero-padded sequence and the check character', () => {
    expect(makeIdNumber('110105', '19491231', 2)).toBe('11010519491231002X');
    expect(makeIdNumber('440524', '18800101', 1)).toBe('440524188001010014');
    expect(makeIdNumber('440106', '19900307', 123)).toBe('440106199003071231');
  });

  it('reads the sex from the sequence parity: odd male, even female', () => {
    expect(sexOfIdNumber('440106199003071231')).toBe('M');
    expect(sexOfIdNumber('11010519491231002X')).toBe('F');
    expect(birthDateOfIdNumber('11010519491231002X')).toBe('1949-12-31');
  });

  it('accepts valid numbers and rejects malformed ones', () => {
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('440524188001010014')).toBe(true);
    expect(isValidIdNumber('440106199003071231')).toBe(true);
    expect(isValidIdNumber('110105194912310021')).toBe(false); // wrong check character
    expect(isValidIdNumber('11010519491231002x')).toBe(false); // lower-case x
    expect(isValidIdNumber('11010519491231002')).toBe(false); // 17 characters
    expect(isValidIdNumber(makeIdNumber('440106', '19990230', 123))).toBe(false); // 30 February
    expect(isValidIdNumber(makeIdNumber('440106', '20000229', 123))).toBe(true); // leap day
    expect(isValidIdNumber(makeIdNumber('440106', '19000229', 123))).toBe(false); // 1900 is no leap year
    expect(isValidIdNumber(makeIdNumber('000000', '19900307', 123))).toBe(false); // no region
  });
});
