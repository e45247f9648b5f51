import { Field, ID, ObjectType } from 'type-graphql';
import { PageInfo } from '../../graphql/pagination.js';

/** `conversations` is a field resolver of the conversations module (it depends on contacts, not the reverse). */
@ObjectType('Contact', { simpleResolvers: true })
export class Contact {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'As Twilio gave it: E.164 when phoneNumberIsE164, else the sender as received (e.g. an alphanumeric sender ID).' })
  phoneNumber!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => Boolean, { description: 'The contact texted STOP; nothing is sent until they text START.' })
  optedOut!: boolean;

  @Field(() => Boolean, { description: 'Inbound texts of a blocked contact are kept but open nothing, notify no one and get no automated reply.' })
  blocked!: boolean;

  @Field(() => String, { nullable: true, description: "From Twilio's FromCity / FromState / FromZip / FromCountry, when given." })
  city!: string | null;

  @Field(() => String, { nullable: true })
  state!: string | null;

  @Field(() => String, { nullable: true })
  zip!: string | null;

  @Field(() => String, { nullable: true })
  country!: string | null;

  @Field(() => Date, { description: 'The latest text to or from the contact (the order of `contacts`).' })
  lastActivityAt!: Date;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType('ContactEdge', { simpleResolvers: true })
export class ContactEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Contact)
  node!: Contact;
}

@ObjectType('ContactConnection', { simpleResolvers: true })
export class ContactConnection {
  @Field(() => [ContactEdge])
  edges!: ContactEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
