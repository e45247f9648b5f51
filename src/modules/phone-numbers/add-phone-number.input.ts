import { Field, ID, InputType } from 'type-graphql';
import { NumberDirection, NumberType } from './phone-number.enums.js';

@InputType('AddPhoneNumberInput')
export class AddPhoneNumberInput {
  @Field(() => ID)
  twilioAccountId!: string;

  @Field(() => String, { description: 'E.164 with its country code (+1 415 555 0100), or a 5–6 digit short code.' })
  phoneNumber!: string;

  @Field(() => NumberType, { nullable: true, description: 'LONG_CODE unless given (SHORT_CODE for 5–6 digits).' })
  type?: NumberType | null;

  @Field(() => NumberDirection, { nullable: true, description: 'INBOUND_OUTBOUND unless given.' })
  direction?: NumberDirection | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'MG + 32 hex: replies go through this Messaging Service.' })
  messagingServiceSid?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "Point the number's Twilio SMS webhook and status callback at this server through the Twilio API.",
  })
  configureTwilioWebhook?: boolean | null;

  @Field(() => ID, { nullable: true, description: 'New conversations on this number are routed to this team.' })
  teamId?: string | null;
}
