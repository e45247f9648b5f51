import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/shared/errors.js';
import { parseSearch } from '../../src/shared/search.js';

describe('parseSearch', () => {
  it('trims, collapses spaces and escapes LIKE’s own characters', () => {
    expect(parseSearch('  crème   brûlée ')).toEqual({ pattern: '%crème brûlée%', digitsPattern: null });
    expect(parseSearch('50%_off\\')).toEqual({ pattern: '%50\\%\\_off\\\\%', digitsPattern: null });
  });

  it('a number fragment, however typed, also matches digits', () => {
    expect(parseSearch('(415) 555-01')!.digitsPattern).toBe('%41555501%');
    expect(parseSearch('+1 415')!.digitsPattern).toBe('%1415%');
    expect(parseSearch('415.555')!.digitsPattern).toBe('%415555%');
    // Words with digits are text, not numbers: "Ana 2" must not match every number with a 2.
    expect(parseSearch('Ana 2')!.digitsPattern).toBeNull();
    expect(parseSearch('+1')!.digitsPattern).toBeNull(); // one digit
  });

  it('null when absent; BAD_USER_INPUT under 2 or over 100 characters', () => {
    expect(parseSearch(null)).toBeNull();
    expect(parseSearch(undefined)).toBeNull();
    for (const raw of ['', ' a ', 'x'.repeat(101)]) {
      expect(() => parseSearch(raw)).toThrow(DomainError);
    }
    expect(parseSearch('x'.repeat(100))).not.toBeNull();
  });
});
