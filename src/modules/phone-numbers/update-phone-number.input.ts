import { Field, ID, InputType } from 'type-graphql';

/** An omitted field stays unchanged; an explicit null clears it. */
@InputType('UpdatePhoneNumberInput')
export class UpdatePhoneNumberInput {
  @Field(() => ID, { nullable: true, description: 'The number is closed outside these hours; null: always open.' })
  operatingHoursId?: string | null;
}
