import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { AutomatedMessageTrigger } from './automation.enums.js';

registerEnumType(AutomatedMessageTrigger, {
  name: 'AutomatedMessageTrigger',
  description:
    'At most one of GREETING, OUT_OF_HOURS, ALL_AGENTS_BUSY answers one inbound text: OUT_OF_HOURS before ALL_AGENTS_BUSY before GREETING. None answers an opt-out keyword.',
  valuesConfig: {
    GREETING: { description: 'The first inbound text of a new conversation.' },
    OUT_OF_HOURS: { description: "An inbound text while the number's operating hours are closed (at most once per conversation per closed period)." },
    ALL_AGENTS_BUSY: { description: "A conversation enters its team's queue because no member is eligible (never for a number without a team)." },
    RESOLVED: { description: 'The conversation was resolved by an agent.' },
    CSAT_SURVEY: { description: "After RESOLVED: asks for a rating; a reply of 1 to 5 becomes the conversation's csatRating." },
    FAILURE: { description: "Answered to the customer when an inbound text could not be taken in (Twilio's fallback URL); only {{tenant.name}} may be used." },
  },
});

@ObjectType('AutomatedMessage', { simpleResolvers: true, description: "A text sent automatically on this number, through the same outbox as agents' replies." })
export class AutomatedMessage {
  @Field(() => ID)
  id!: string;

  @Field(() => AutomatedMessageTrigger)
  trigger!: AutomatedMessageTrigger;

  @Field(() => String)
  body!: string;

  @Field(() => Boolean)
  enabled!: boolean;
}

@InputType('SetAutomatedMessageInput')
export class SetAutomatedMessageInput {
  @Field(() => ID)
  phoneNumberId!: string;

  @Field(() => AutomatedMessageTrigger)
  trigger!: AutomatedMessageTrigger;

  @Field(() => String, { description: '{{contact.name}}, {{agent.name}}, {{tenant.name}} are filled in (FAILURE: {{tenant.name}} only). At most 1,600 characters.' })
  body!: string;

  @Field(() => Boolean)
  enabled!: boolean;
}
