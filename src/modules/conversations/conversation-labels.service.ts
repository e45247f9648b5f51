import type { TenantScope } from '../../shared/deps.js';
import { badInput, notFound } from '../../shared/errors.js';
import { refuseNul } from '../../shared/text-input.js';
import { conversationUpdatedEvent } from '../../events/live-events.js';
import { ConversationLabelsRepository } from './conversation-labels.repository.js';
import { ConversationsRepository } from './conversations.repository.js';
import type { ConversationRow } from './conversations.schema.js';
import { ConversationsService } from './conversations.service.js';
import { labelKey } from './inbox-filters.js';

export const MAX_LABELS_PER_CONVERSATION = 20;
export const MAX_LABEL_LENGTH = 50;

/**
 * Labels as a client sends them: trimmed, case-insensitive duplicates folded into the first
 * spelling; BAD_USER_INPUT for a blank one, one over 50 characters, or more than 20.
 */
export function normalizeLabels(labels: readonly string[]): Array<{ label: string; key: string }> {
  const seen = new Map<string, string>();
  for (const raw of labels) {
    const label = refuseNul(raw, 'labels').trim().replace(/\s+/g, ' ');
    if (label === '') throw badInput('A label cannot be blank', 'labels');
    if (label.length > MAX_LABEL_LENGTH) throw badInput(`A label may have at most ${MAX_LABEL_LENGTH} characters: "${label.slice(0, 60)}"`, 'labels');
    const key = labelKey(label);
    if (!seen.has(key)) seen.set(key, label);
  }
  if (seen.size > MAX_LABELS_PER_CONVERSATION) {
    throw badInput(`A conversation may have at most ${MAX_LABELS_PER_CONVERSATION} labels`, 'labels');
  }
  return [...seen].map(([key, label]) => ({ label, key }));
}

export class ConversationLabelsService {
  constructor(private readonly scope: TenantScope) {}

  /** Replaces the labels; publishes conversationUpdated. */
  async set(conversationId: string, labels: readonly string[]): Promise<ConversationRow> {
    const normalized = normalizeLabels(labels);
    // Through the conversations service: a conversation the caller may not see is NOT_FOUND.
    const conversation = await new ConversationsService(this.scope).get(conversationId);
    if (!conversation) throw notFound('Conversation');
    const { tenantId } = this.scope;
    const updated = await this.scope.deps.db.transaction(async (tx) => {
      await new ConversationLabelsRepository(tx, tenantId).replace(conversation.id, normalized);
      return new ConversationsRepository(tx, tenantId).touch(conversation.id);
    });
    if (!updated) throw notFound('Conversation');
    this.scope.deps.events.publish(conversationUpdatedEvent(updated));
    return updated;
  }
}
