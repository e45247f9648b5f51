import { FieldResolver, Resolver, Root } from 'type-graphql';
import { isValidPhoneNumber } from 'libphonenumber-js';
import { Contact } from './contact.type.js';

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Twilio's inbound `From` is stored as given: usually E.164, but it can be an alphanumeric sender
 * ID, a short code or a channel address. Those are flagged rather than dressed up as a number.
 */
@Resolver(() => Contact)
export class ContactAddressResolver {
  @FieldResolver(() => Boolean, {
    description: 'Whether phoneNumber is a valid E.164 number; false for a sender ID or any other address as Twilio gave it.',
  })
  phoneNumberIsE164(@Root() contact: Contact): boolean {
    return E164.test(contact.phoneNumber) && isValidPhoneNumber(contact.phoneNumber);
  }
}
