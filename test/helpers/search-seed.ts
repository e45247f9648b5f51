/**
 * A tenant's worth of searchable history written straight into the database: set-based SQL
 * statements (generate_series), so 100,000 messages take seconds on Postgres and a test's few
 * thousand are quick on PGlite. Deterministic: the same options give the same texts.
 *
 * Every message reads like "Hello topic123 about topic4567 and topic89", with one word in 40 an
 * accented one (café, crème brûlée, jalapeño...); every tenth contact is a "Zoë"; numbers are
 * +1 628 ... with the conversation's index in the last digits.
 */
export interface SearchSeedOptions {
  tenantId: string;
  phoneNumberId: string;
  twilioAccountId: string;
  conversations: number;
  messagesPerConversation: number;
  /** Changes every text, so two tenants seeded with different salts differ. */
  salt?: number;
  /** Where the numbers start (+1628 + 7 digits): distinct per tenant keeps contacts distinct. */
  numberOffset?: number;
}

export const ACCENTED_WORDS = ['café', 'crème brûlée', 'jalapeño', 'naïve', 'Ångström', 'Señor'];

/** The SQL statements to run, in order (uuids and numbers only: nothing from outside). */
export function searchSeedStatements(o: SearchSeedOptions): string[] {
  const salt = Math.trunc(o.salt ?? 0);
  const offset = Math.trunc(o.numberOffset ?? 0);
  const n = Math.trunc(o.conversations);
  const perConversation = Math.trunc(o.messagesPerConversation);
  const t = uuid(o.tenantId);
  const accented = `array[${ACCENTED_WORDS.map((w) => `'${w}'`).join(', ')}]`;
  const word = (k: number) => `(case when ((i * 7919 + j * 104729 + ${k} * 31 + ${salt}) % 40) = 0
      then (${accented})[1 + ((i + j + ${k}) % ${ACCENTED_WORDS.length})]
      else 'topic' || ((i * 2654435761 + j * 40503 + ${k} * 977 + ${salt} * 13) % 5000) end)`;
  return [
    // Contacts and conversations 1..n; activity one second apart, the newest last.
    `insert into contacts (tenant_id, phone_number, name, last_activity_at)
     select ${t}, '+1628' || lpad((${offset} + i)::text, 7, '0'),
       case when i % 10 = 0 then 'Zoë ' || i else 'Customer ' || i end,
       timestamptz '2024-01-01' + i * interval '1 second'
     from generate_series(1, ${n}) as i`,
    `insert into conversations (tenant_id, contact_id, phone_number_id, status, unread_count, last_message_at)
     select ${t}, k.id, ${uuid(o.phoneNumberId)}, 'OPEN', 0, k.last_activity_at
     from contacts k where k.tenant_id = ${t} and k.phone_number like '+1628%'
       and substr(k.phone_number, 6)::int between ${offset} + 1 and ${offset + n}`,
    `insert into messages (tenant_id, conversation_id, twilio_account_id, direction, body, status, segments, created_at)
     select ${t}, c.id, ${uuid(o.twilioAccountId)}, 'INBOUND',
       'Hello ' || ${word(1)} || ' about ' || ${word(2)} || ' and ' || ${word(3)}, 'RECEIVED', 1,
       c.last_message_at - (${perConversation} - j) * interval '1 millisecond'
     from (select c.id, c.last_message_at, substr(k.phone_number, 6)::int - ${offset} as i
           from conversations c join contacts k on k.id = c.contact_id
           where c.tenant_id = ${t} and k.phone_number like '+1628%'
             and substr(k.phone_number, 6)::int between ${offset} + 1 and ${offset + n}) c,
       generate_series(1, ${perConversation}) as j`,
  ];
}

function uuid(value: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(value)) throw new Error(`not a uuid: ${value}`);
  return `'${value}'::uuid`;
}

/** What inbox_fold does (lower + unaccent) for the characters the seed uses. */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}
