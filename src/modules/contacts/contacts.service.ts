import type { TenantScope } from '../../shared/deps.js';
import { badInput } from '../../shared/errors.js';
import { parseSearch } from '../../shared/search.js';
import { refuseNul } from '../../shared/text-input.js';
import { decodeCursor, pageSize, toPage, type Page } from '../../graphql/pagination.js';
import { ContactsRepository, type ContactChanges } from './contacts.repository.js';
import type { ContactRow } from './contacts.schema.js';
import type { UpdateContactInput } from './update-contact.input.js';

export const MAX_CONTACT_NAME_LENGTH = 200;

export interface ListContactsArgs {
  first?: number | null;
  after?: string | null;
  search?: string | null;
}

/** An UpdateContactInput checked: name trimmed, at most 200 characters, blank = cleared. */
export function contactChanges(input: UpdateContactInput): ContactChanges {
  const changes: ContactChanges = {};
  if (input.name !== undefined) {
    const name = input.name ? refuseNul(input.name, 'name').trim() : '';
    if (name.length > MAX_CONTACT_NAME_LENGTH) throw badInput(`name may have at most ${MAX_CONTACT_NAME_LENGTH} characters`, 'name');
    changes.name = name === '' ? null : name;
  }
  if (input.blocked !== undefined) {
    if (input.blocked === null) throw badInput('blocked cannot be null', 'blocked');
    changes.blocked = input.blocked;
  }
  return changes;
}

/** The tenant's contacts: every user of the tenant reads and edits them (they are not per team). */
export class ContactsService {
  private readonly contacts: ContactsRepository;

  constructor(private readonly scope: TenantScope) {
    this.contacts = new ContactsRepository(scope.deps.db, scope.tenantId);
  }

  async list(args: ListContactsArgs): Promise<Page<ContactRow>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, 'after');
    const search = parseSearch(args.search);
    return toPage(await this.contacts.list(limit, after, search), limit, after !== null);
  }

  async get(id: string): Promise<ContactRow | null> {
    return (await this.contacts.findById(id)) ?? null;
  }
}
