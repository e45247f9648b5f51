import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/shared/errors.js';
import { closedPeriodKey, isOpenAt, nextOpening, normalizeSchedule, Weekday, type OpeningPeriod } from '../../src/modules/operating-hours/schedule.js';

const utc = (iso: string) => new Date(iso);
const schedule = (timeZone: string, weekly: OpeningPeriod[], closedDates: string[] = []) => normalizeSchedule({ timeZone, weekly, closedDates });
const sunday = (opens: string, closes: string): OpeningPeriod => ({ day: Weekday.SUNDAY, opens, closes });
/** A local wall time as Luxon resolves it (a skipped time moves forward by the gap). */
const local = (zone: string, iso: string) => DateTime.fromISO(iso, { zone }).toJSDate();

function badInputOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('BAD_USER_INPUT');
    return (err as DomainError).message;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('operating hours across daylight-saving changes', () => {
  describe('America/New_York, spring forward (Sunday 2026-03-08, 02:00 EST → 03:00 EDT)', () => {
    const zone = 'America/New_York';
    it('a schedule opening at 02:00 opens at the jump: closed at 01:59 EST, open at "02:00" (= 03:00 EDT) and 03:00', () => {
      const s = schedule(zone, [sunday('02:00', '24:00')]);
      expect(isOpenAt(s, utc('2026-03-08T06:59:00Z'))).toBe(false); // 01:59 EST
      expect(local(zone, '2026-03-08T02:00').toISOString()).toBe('2026-03-08T07:00:00.000Z'); // 02:00 does not exist
      expect(isOpenAt(s, local(zone, '2026-03-08T02:00'))).toBe(true);
      expect(isOpenAt(s, utc('2026-03-08T07:00:00Z'))).toBe(true); // 03:00 EDT
      expect(nextOpening(s, utc('2026-03-08T06:59:00Z'))?.toISOString()).toBe('2026-03-08T07:00:00.000Z');
    });
    it('a schedule opening at 02:30 (inside the gap) opens at 03:00 EDT, one real minute after 01:59 EST', () => {
      const s = schedule(zone, [sunday('02:30', '12:00')]);
      expect(nextOpening(s, utc('2026-03-08T06:59:00Z'))?.toISOString()).toBe('2026-03-08T07:00:00.000Z');
    });
    it('a schedule closing at 02:00 closes at the jump, and one opening at 03:00 opens at 07:00Z', () => {
      const early = schedule(zone, [sunday('00:00', '02:00')]);
      expect(isOpenAt(early, utc('2026-03-08T06:59:00Z'))).toBe(true); // 01:59 EST
      expect(isOpenAt(early, utc('2026-03-08T07:00:00Z'))).toBe(false); // 03:00 EDT
      const late = schedule(zone, [sunday('03:00', '24:00')]);
      expect(isOpenAt(late, utc('2026-03-08T06:59:00Z'))).toBe(false);
      expect(isOpenAt(late, utc('2026-03-08T07:00:00Z'))).toBe(true);
    });
  });

  describe('America/New_York, fall back (Sunday 2026-11-01, 02:00 EDT → 01:00 EST)', () => {
    const zone = 'America/New_York';
    it('01:59 happens twice and is closed both times for a 02:00 opening; 02:00 EST opens', () => {
      const s = schedule(zone, [sunday('02:00', '24:00')]);
      expect(isOpenAt(s, utc('2026-11-01T05:59:00Z'))).toBe(false); // 01:59 EDT
      expect(isOpenAt(s, utc('2026-11-01T06:00:00Z'))).toBe(false); // 01:00 EST (the repeated hour)
      expect(isOpenAt(s, utc('2026-11-01T06:59:00Z'))).toBe(false); // 01:59 EST
      expect(isOpenAt(s, utc('2026-11-01T07:00:00Z'))).toBe(true); // 02:00 EST
      expect(isOpenAt(s, utc('2026-11-01T08:00:00Z'))).toBe(true); // 03:00 EST
      expect(nextOpening(s, utc('2026-11-01T05:59:00Z'))?.toISOString()).toBe('2026-11-01T07:00:00.000Z');
    });
    it('a period ending at 02:00 stays open through both 01:59s: three real hours from midnight', () => {
      const s = schedule(zone, [sunday('00:00', '02:00')]);
      expect(isOpenAt(s, utc('2026-11-01T05:59:00Z'))).toBe(true);
      expect(isOpenAt(s, utc('2026-11-01T06:59:00Z'))).toBe(true);
      expect(isOpenAt(s, utc('2026-11-01T07:00:00Z'))).toBe(false);
    });
  });

  describe('Europe/Berlin, spring forward (Sunday 2026-03-29, 02:00 CET → 03:00 CEST)', () => {
    const zone = 'Europe/Berlin';
    it('closed at 01:59 CET, open at "02:00" (= 03:00 CEST) and 03:00 for a 02:00 opening', () => {
      const s = schedule(zone, [sunday('02:00', '24:00')]);
      expect(isOpenAt(s, utc('2026-03-29T00:59:00Z'))).toBe(false); // 01:59 CET
      expect(local(zone, '2026-03-29T02:00').toISOString()).toBe('2026-03-29T01:00:00.000Z');
      expect(isOpenAt(s, local(zone, '2026-03-29T02:00'))).toBe(true);
      expect(isOpenAt(s, utc('2026-03-29T01:00:00Z'))).toBe(true); // 03:00 CEST
      expect(nextOpening(s, utc('2026-03-29T00:59:00Z'))?.toISOString()).toBe('2026-03-29T01:00:00.000Z');
    });
  });

  describe('Europe/Berlin, fall back (Sunday 2026-10-25, 03:00 CEST → 02:00 CET)', () => {
    const zone = 'Europe/Berlin';
    it('02:00–02:59 happens twice: open both times for a 02:00–03:00 period; 03:00 CET closes it', () => {
      const s = schedule(zone, [sunday('02:00', '03:00')]);
      expect(isOpenAt(s, utc('2026-10-24T23:59:00Z'))).toBe(false); // 01:59 CEST
      expect(isOpenAt(s, utc('2026-10-25T00:00:00Z'))).toBe(true); // 02:00 CEST
      expect(isOpenAt(s, utc('2026-10-25T01:00:00Z'))).toBe(true); // 02:00 CET
      expect(isOpenAt(s, utc('2026-10-25T02:00:00Z'))).toBe(false); // 03:00 CET
    });
    it('a 03:00 opening waits for the second 02:59: open at 03:00 CET', () => {
      const s = schedule(zone, [sunday('03:00', '24:00')]);
      expect(isOpenAt(s, utc('2026-10-25T00:59:00Z'))).toBe(false); // 02:59 CEST
      expect(isOpenAt(s, utc('2026-10-25T01:59:00Z'))).toBe(false); // 02:59 CET
      expect(isOpenAt(s, utc('2026-10-25T02:00:00Z'))).toBe(true); // 03:00 CET
      expect(nextOpening(s, utc('2026-10-24T23:59:00Z'))?.toISOString()).toBe('2026-10-25T02:00:00.000Z');
    });
  });
});

describe('operating hours rules', () => {
  const weekdays9to17 = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY].map((day) => ({
    day,
    opens: '09:00',
    closes: '17:00',
  }));

  it('closed dates close the whole local day, and nextOpening skips them', () => {
    const s = schedule('America/New_York', weekdays9to17, ['2026-12-25']);
    expect(isOpenAt(s, local('America/New_York', '2026-12-24T10:00'))).toBe(true);
    expect(isOpenAt(s, local('America/New_York', '2026-12-25T10:00'))).toBe(false);
    expect(nextOpening(s, local('America/New_York', '2026-12-24T18:00'))?.toISOString()).toBe(
      local('America/New_York', '2026-12-28T09:00').toISOString(), // Friday closed, weekend, Monday
    );
  });

  it('a closed stretch has one key for all its instants and a new one for the next stretch', () => {
    const s = schedule('Europe/Berlin', weekdays9to17);
    const fridayEvening = local('Europe/Berlin', '2026-06-05T22:00');
    const sundayNoon = local('Europe/Berlin', '2026-06-07T12:00');
    const mondayEvening = local('Europe/Berlin', '2026-06-08T22:00');
    expect(closedPeriodKey(s, fridayEvening)).toBe(closedPeriodKey(s, sundayNoon));
    expect(closedPeriodKey(s, mondayEvening)).not.toBe(closedPeriodKey(s, fridayEvening));
    expect(closedPeriodKey(schedule('UTC', []), fridayEvening)).toBe('never');
  });

  it('periods may touch (17:00–24:00 then 00:00 the next day) and 24:00 means the end of the day', () => {
    const s = schedule('UTC', [
      { day: Weekday.MONDAY, opens: '17:00', closes: '24:00' },
      { day: Weekday.MONDAY, opens: '09:00', closes: '17:00' },
      { day: Weekday.TUESDAY, opens: '00:00', closes: '02:00' },
    ]);
    expect(s.weekly.map((p) => `${p.day} ${p.opens}-${p.closes}`)).toEqual(['MONDAY 09:00-17:00', 'MONDAY 17:00-24:00', 'TUESDAY 00:00-02:00']);
    expect(isOpenAt(s, utc('2026-06-08T23:59:00Z'))).toBe(true);
    expect(isOpenAt(s, utc('2026-06-09T00:00:00Z'))).toBe(true);
    expect(isOpenAt(s, utc('2026-06-09T02:00:00Z'))).toBe(false);
  });

  it('refuses a bad time zone, overlaps, crossing midnight and malformed times or dates', () => {
    expect(badInputOf(() => schedule('Mars/Olympus_Mons', weekdays9to17))).toMatch(/time zone/);
    expect(
      badInputOf(() => schedule('UTC', [{ day: Weekday.MONDAY, opens: '09:00', closes: '12:00' }, { day: Weekday.MONDAY, opens: '11:00', closes: '13:00' }])),
    ).toMatch(/overlap/);
    expect(badInputOf(() => schedule('UTC', [{ day: Weekday.MONDAY, opens: '22:00', closes: '02:00' }]))).toMatch(/midnight/);
    expect(badInputOf(() => schedule('UTC', [{ day: Weekday.MONDAY, opens: '09:00', closes: '09:00' }]))).toMatch(/close after/);
    expect(badInputOf(() => schedule('UTC', [{ day: Weekday.MONDAY, opens: '24:00', closes: '24:00' }]))).toMatch(/opens/);
    expect(badInputOf(() => schedule('UTC', [{ day: Weekday.MONDAY, opens: '9:00', closes: '17:00' }]))).toMatch(/HH:mm/);
    expect(badInputOf(() => schedule('UTC', weekdays9to17, ['2026-02-30']))).toMatch(/date/);
  });
});
