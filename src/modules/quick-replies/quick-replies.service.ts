import type { TenantScope } from '../../shared/deps.js';
import { badInput, conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import { parseSearch } from '../../shared/search.js';
import { refuseNul } from '../../shared/text-input.js';
import { assertPlaceholders, renderTemplate } from '../../shared/templates.js';
import { ContactsRepository } from '../contacts/contacts.repository.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';
import { UsersRepository } from '../users/users.repository.js';
import { QuickRepliesRepository } from './quick-replies.repository.js';
import type { QuickReplyRow } from './quick-replies.schema.js';
import type { CreateQuickReplyInput, UpdateQuickReplyInput } from './quick-reply.type.js';

export const MAX_QUICK_REPLIES_PER_TENANT = 1000;
export const MAX_QUICK_REPLY_TITLE_LENGTH = 100;
export const MAX_QUICK_REPLY_BODY_LENGTH = 1600;

function requireTitle(raw: string): string {
  const title = refuseNul(raw, 'title').trim().replace(/\s+/g, ' ');
  if (title.length === 0) throw badInput('title cannot be empty', 'title');
  if (title.length > MAX_QUICK_REPLY_TITLE_LENGTH) throw badInput(`title may have at most ${MAX_QUICK_REPLY_TITLE_LENGTH} characters`, 'title');
  return title;
}

/** 1–1,600 characters and only known placeholders: a typo is refused now, not when an agent uses it. */
function requireBody(raw: string): string {
  const body = refuseNul(raw, 'body').trim();
  if (body.length === 0) throw badInput('body cannot be empty', 'body');
  if (body.length > MAX_QUICK_REPLY_BODY_LENGTH) throw badInput(`body may have at most ${MAX_QUICK_REPLY_BODY_LENGTH} characters`, 'body');
  assertPlaceholders(body, (message) => badInput(message, 'body'));
  return body;
}

const titleTaken = () => conflict('A quick reply with this title exists already');

/** Saved replies: everyone of the tenant reads and renders them; ADMINs manage them (resolver). */
export class QuickRepliesService {
  private readonly quickReplies: QuickRepliesRepository;

  constructor(private readonly scope: TenantScope) {
    this.quickReplies = new QuickRepliesRepository(scope.deps.db, scope.tenantId);
  }

  list(search: string | null | undefined): Promise<QuickReplyRow[]> {
    return this.quickReplies.list(parseSearch(search));
  }

  async create(input: CreateQuickReplyInput): Promise<QuickReplyRow> {
    const values = { title: requireTitle(input.title), body: requireBody(input.body) };
    try {
      const row = await this.quickReplies.create(values, MAX_QUICK_REPLIES_PER_TENANT);
      if (!row) throw badInput(`A tenant may have at most ${MAX_QUICK_REPLIES_PER_TENANT} quick replies`);
      return row;
    } catch (err) {
      if (isUniqueViolation(err, 'quick_replies_tenant_title_uq')) throw titleTaken();
      throw err;
    }
  }

  async update(id: string, input: UpdateQuickReplyInput): Promise<QuickReplyRow> {
    if (input.title === null) throw badInput('title cannot be null', 'title');
    if (input.body === null) throw badInput('body cannot be null', 'body');
    const changes = {
      ...(input.title !== undefined ? { title: requireTitle(input.title) } : {}),
      ...(input.body !== undefined ? { body: requireBody(input.body) } : {}),
    };
    try {
      const row = await this.quickReplies.update(id, changes);
      if (!row) throw notFound('Quick reply');
      return row;
    } catch (err) {
      if (isUniqueViolation(err, 'quick_replies_tenant_title_uq')) throw titleTaken();
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    if (!(await this.quickReplies.delete(id))) throw notFound('Quick reply');
    return true;
  }

  /** The body with {{contact.name}}, {{agent.name}} (the caller) and {{tenant.name}} filled in. */
  async render(id: string, conversationId: string): Promise<string> {
    const { deps, tenantId, user } = this.scope;
    const [quickReply, conversation] = await Promise.all([this.quickReplies.findById(id), new ConversationsService(this.scope).get(conversationId)]);
    if (!quickReply) throw notFound('Quick reply');
    if (!conversation) throw notFound('Conversation');
    const [contact, agent, [tenant]] = await Promise.all([
      new ContactsRepository(deps.db, tenantId).findById(conversation.contactId),
      new UsersRepository(deps.db, tenantId).findById(user.userId),
      new TenantsRepository(deps.db).findByIds([tenantId]),
    ]);
    return renderTemplate(quickReply.body, {
      'contact.name': contact?.name,
      'agent.name': agent?.name,
      'tenant.name': tenant?.name,
    });
  }
}
