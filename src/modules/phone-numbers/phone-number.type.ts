import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { NumberDirection, NumberType } from './phone-number.enums.js';

registerEnumType(NumberType, { name: 'NumberType' });
registerEnumType(NumberDirection, { name: 'NumberDirection' });

/** `twilioAccount` is a field resolver (phone-numbers resolver). */
@ObjectType('PhoneNumber', { simpleResolvers: true })
export class PhoneNumber {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'E.164, e.g. +14155550100 (short codes as digits).' })
  e164!: string;

  @Field(() => NumberType)
  type!: NumberType;

  @Field(() => NumberDirection)
  direction!: NumberDirection;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String, { nullable: true })
  messagingServiceSid!: string | null;

  twilioAccountId!: string;
  operatingHoursId!: string | null;
  /** The `team` field is resolved from it (routing). */
  teamId!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Set only in the answer of addPhoneNumber with configureTwilioWebhook, when Twilio may not use the SmsUrl we set (e.g. the number is attached to a TwiML app or a Messaging Service).',
  })
  webhookWarning?: string | null;

  @Field(() => Date)
  createdAt!: Date;
}
