import { Field, ID, InputType } from 'type-graphql';
import { NumberDirection, NumberType } from './phone-number.enums.js';

/** An omitted field stays unchanged; an explicit null clears it (type and direction cannot be cleared). */
@InputType('UpdatePhoneNumberInput')
export class UpdatePhoneNumberInput {
  @Field(() => NumberType, { nullable: true })
  type?: NumberType | null;

  @Field(() => NumberDirection, { nullable: true })
  direction?: NumberDirection | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'MG + 32 hex: replies go through this Messaging Service.' })
  messagingServiceSid?: string | null;

  @Field(() => ID, { nullable: true, description: 'New conversations on this number are routed to this team; null: no team.' })
  teamId?: string | null;
}
