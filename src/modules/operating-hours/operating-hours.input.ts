import { LocalDateResolver, LocalEndTimeResolver, LocalTimeResolver, TimeZoneResolver } from 'graphql-scalars';
import { Field, InputType } from 'type-graphql';
import { Weekday } from './schedule.js';

@InputType('OpeningPeriodInput')
export class OpeningPeriodInput {
  @Field(() => Weekday)
  day!: Weekday;

  @Field(() => LocalTimeResolver)
  opens!: string;

  @Field(() => LocalEndTimeResolver)
  closes!: string;
}

@InputType('OperatingHoursInput', { description: 'Creates a schedule, or replaces one whole (updateOperatingHours).' })
export class OperatingHoursInput {
  @Field(() => String)
  name!: string;

  @Field(() => TimeZoneResolver)
  timeZone!: string;

  @Field(() => [OpeningPeriodInput])
  weekly!: OpeningPeriodInput[];

  @Field(() => [LocalDateResolver], { nullable: true })
  closedDates?: string[] | null;
}
