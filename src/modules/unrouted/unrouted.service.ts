import type { TenantScope } from '../../shared/deps.js';
import { decodeCursor, pageSize, toPage, type Page } from '../../graphql/pagination.js';
import type { UnroutedMessage } from './unrouted-message.type.js';
import { UnroutedMessagesRepository } from './unrouted.repository.js';

export class UnroutedMessagesService {
  constructor(private readonly scope: TenantScope) {}

  async list(first: number | null, after: string | null): Promise<Page<UnroutedMessage>> {
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 'after');
    const rows = await new UnroutedMessagesRepository(this.scope.deps.db, this.scope.tenantId).page(limit, cursor);
    return toPage(
      rows.map(({ row, cursorTs, id }) => ({
        row: { id: row.id, twilioAccountId: row.twilioAccountId, from: row.fromAddress, to: row.toAddress, body: row.body, twilioSid: row.twilioSid, receivedAt: row.receivedAt },
        cursorTs,
        id,
      })),
      limit,
      cursor !== null,
    );
  }
}
