import { LocalDateResolver, LocalEndTimeResolver, LocalTimeResolver, TimeZoneResolver } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Weekday } from './schedule.js';

registerEnumType(Weekday, { name: 'Weekday' });

@ObjectType('OpeningPeriod', { simpleResolvers: true })
export class OpeningPeriod {
  @Field(() => Weekday)
  day!: Weekday;

  @Field(() => LocalTimeResolver, { description: "Local time of the schedule's time zone." })
  opens!: string;

  @Field(() => LocalEndTimeResolver, { description: 'Later than opens on the same day; 24:00 for midnight. Periods of a day may not overlap.' })
  closes!: string;
}

/** `openNow` is a field resolver (operating-hours resolver), answered on the server's clock. */
@ObjectType('OperatingHours', { simpleResolvers: true })
export class OperatingHours {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => TimeZoneResolver)
  timeZone!: string;

  @Field(() => [OpeningPeriod])
  weekly!: OpeningPeriod[];

  @Field(() => [LocalDateResolver], { description: "Whole days closed, in the schedule's time zone, e.g. public holidays." })
  closedDates!: string[];
}
