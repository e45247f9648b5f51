import { DateTime, IANAZone } from 'luxon';
import { badInput } from '../../shared/errors.js';

/** Plain enum shared by the stored JSON and GraphQL (registered in operating-hours.type.ts). */
export enum Weekday {
  MONDAY = 'MONDAY',
  TUESDAY = 'TUESDAY',
  WEDNESDAY = 'WEDNESDAY',
  THURSDAY = 'THURSDAY',
  FRIDAY = 'FRIDAY',
  SATURDAY = 'SATURDAY',
  SUNDAY = 'SUNDAY',
}

/** Luxon's weekday numbers: 1 = Monday … 7 = Sunday. */
const WEEKDAY_NUMBER: Record<Weekday, number> = {
  MONDAY: 1,
  TUESDAY: 2,
  WEDNESDAY: 3,
  THURSDAY: 4,
  FRIDAY: 5,
  SATURDAY: 6,
  SUNDAY: 7,
};

export interface OpeningPeriod {
  day: Weekday;
  /** HH:mm, local wall time. */
  opens: string;
  /** HH:mm, later than opens; 24:00 is the end of the day. */
  closes: string;
}

export interface Schedule {
  timeZone: string;
  weekly: OpeningPeriod[];
  /** YYYY-MM-DD, whole local days closed. */
  closedDates: string[];
}

export const SCHEDULE_LIMITS = { nameMax: 100, periodsMax: 70, closedDatesMax: 400 } as const;
/** How far ahead nextOpening looks (a year of closed dates plus slack). */
const LOOKAHEAD_DAYS = 400;

const LOCAL_TIME = /^([01]\d|2[0-3]):([0-5]\d)(?::00(?:\.0{1,3})?)?$/;
const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Minutes since local midnight of HH:mm; 24:00 (closes only) is 1440. Null when malformed. */
function minutesOf(value: string, allowEndOfDay: boolean): number | null {
  if (allowEndOfDay && /^24:00(?::00(?:\.0{1,3})?)?$/.test(value)) return 1440;
  const m = LOCAL_TIME.exec(value);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

export function isValidTimeZone(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && name.length <= 64 && IANAZone.isValidZone(name);
}

/**
 * Checks a whole schedule and returns it normalised (periods sorted by day and time, HH:mm,
 * closed dates sorted without duplicates). Throws BAD_USER_INPUT naming the field: an unknown
 * time zone, a malformed time or date, a period that ends before it starts or crosses midnight
 * (split it: 22:00–24:00 and 00:00–02:00 the next day), periods of one day that overlap.
 */
export function normalizeSchedule(input: { timeZone: string; weekly: OpeningPeriod[]; closedDates?: string[] | null }): Schedule {
  if (!isValidTimeZone(input.timeZone)) throw badInput(`Unknown time zone "${input.timeZone}": use an IANA name such as America/New_York`, 'timeZone');
  const timeZone = new IANAZone(input.timeZone).name;
  if (input.weekly.length > SCHEDULE_LIMITS.periodsMax) throw badInput(`At most ${SCHEDULE_LIMITS.periodsMax} weekly periods`, 'weekly');

  const periods = input.weekly.map((p, i) => {
    if (!(p.day in WEEKDAY_NUMBER)) throw badInput(`weekly[${i}].day is not a weekday`, 'weekly');
    const opens = minutesOf(p.opens, false);
    if (opens === null) throw badInput(`weekly[${i}].opens must be HH:mm (00:00–23:59), got "${p.opens}"`, 'weekly');
    const closes = minutesOf(p.closes, true);
    if (closes === null) throw badInput(`weekly[${i}].closes must be HH:mm (00:01–24:00), got "${p.closes}"`, 'weekly');
    if (closes <= opens) {
      throw badInput(
        `weekly[${i}] (${p.day} ${hhmm(opens)}–${hhmm(closes)}) must close after it opens on the same day; to cross midnight close at 24:00 and open the next day at 00:00`,
        'weekly',
      );
    }
    return { day: p.day, opens, closes };
  });
  periods.sort((a, b) => WEEKDAY_NUMBER[a.day] - WEEKDAY_NUMBER[b.day] || a.opens - b.opens);
  for (let i = 1; i < periods.length; i++) {
    const prev = periods[i - 1]!;
    const cur = periods[i]!;
    if (prev.day === cur.day && cur.opens < prev.closes) {
      throw badInput(`${cur.day}: ${hhmm(prev.opens)}–${hhmm(prev.closes)} and ${hhmm(cur.opens)}–${hhmm(cur.closes)} overlap`, 'weekly');
    }
  }

  const dates = input.closedDates ?? [];
  if (dates.length > SCHEDULE_LIMITS.closedDatesMax) throw badInput(`At most ${SCHEDULE_LIMITS.closedDatesMax} closed dates`, 'closedDates');
  for (const d of dates) {
    if (!LOCAL_DATE.test(d) || !DateTime.fromISO(d, { zone: 'utc' }).isValid) throw badInput(`"${d}" is not a date (YYYY-MM-DD)`, 'closedDates');
  }
  return {
    timeZone,
    weekly: periods.map((p) => ({ day: p.day, opens: hhmm(p.opens), closes: hhmm(p.closes) })),
    closedDates: [...new Set(dates)].sort(),
  };
}

/**
 * Whether the schedule is open at this instant: the instant's wall time in the schedule's zone
 * falls in one of that weekday's periods and the local date is not closed. Working on wall time
 * makes daylight-saving changes come out right by construction: on a spring-forward day the
 * skipped hour simply never occurs, on a fall-back day the repeated hour is open (or closed)
 * both times.
 */
export function isOpenAt(schedule: Schedule, instant: Date): boolean {
  const local = DateTime.fromJSDate(instant, { zone: schedule.timeZone });
  if (schedule.closedDates.includes(local.toISODate()!)) return false;
  const minute = local.hour * 60 + local.minute;
  return schedule.weekly.some(
    (p) => WEEKDAY_NUMBER[p.day] === local.weekday && minutesOf(p.opens, false)! <= minute && minute < minutesOf(p.closes, true)!,
  );
}

/**
 * The first instant after `from` at which the schedule is open (null: not within 400 days). An
 * open stretch starts at a period's opening time, or at a daylight-saving jump that lands inside
 * a period (an opening at 02:30 on a spring-forward day opens at 03:00); both are tried.
 */
export function nextOpening(schedule: Schedule, from: Date): Date | null {
  const start = DateTime.fromJSDate(from, { zone: schedule.timeZone }).startOf('day');
  for (let d = 0; d <= LOOKAHEAD_DAYS; d++) {
    const day = start.plus({ days: d });
    if (schedule.closedDates.includes(day.toISODate()!)) continue;
    const candidates: DateTime[] = [day];
    for (const p of schedule.weekly) {
      if (WEEKDAY_NUMBER[p.day] !== day.weekday) continue;
      const opens = minutesOf(p.opens, false)!;
      candidates.push(
        DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: Math.floor(opens / 60), minute: opens % 60 }, { zone: schedule.timeZone }),
      );
    }
    const jump = offsetChangeWithin(day);
    if (jump) candidates.push(jump);
    const found = candidates
      .filter((c) => c.toMillis() > from.getTime() && isOpenAt(schedule, c.toJSDate()))
      .sort((a, b) => a.toMillis() - b.toMillis())[0];
    if (found) return found.toJSDate();
  }
  return null;
}

/** The first minute of a local day at which the UTC offset has changed, if it changes that day. */
function offsetChangeWithin(dayStart: DateTime): DateTime | null {
  const end = dayStart.plus({ days: 1 });
  if (dayStart.offset === end.offset) return null;
  let lo = dayStart.toMillis();
  let hi = end.toMillis();
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
    if (DateTime.fromMillis(mid, { zone: dayStart.zone }).offset === dayStart.offset) lo = mid;
    else hi = mid;
  }
  return DateTime.fromMillis(hi, { zone: dayStart.zone });
}

/**
 * Names the closed stretch `at` falls in, the same on every instance and for every text of it:
 * the instant it ends (its next opening), or "never" for a schedule that does not open again.
 * OUT_OF_HOURS is sent at most once per conversation and key.
 */
export function closedPeriodKey(schedule: Schedule, at: Date): string {
  return nextOpening(schedule, at)?.toISOString() ?? 'never';
}
