import { isUuid } from '../../shared/ids.js';
import { and, asc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/sql.js';
import type { Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { twilioAccounts, type TwilioAccountRow } from './twilio-accounts.schema.js';


export interface UpsertAccountValues {
  accountSid: string;
  authTokenSealed: string;
  friendlyName: string;
  /** false: the name is Twilio's default, and a re-connect keeps the name already stored. */
  friendlyNameGiven: boolean;
  apiBaseUrl: string;
  /** null: keep the stored value on a re-connect (true for a new account). */
  mediaEnabled: boolean | null;
  /** null: keep the stored list on a re-connect (empty for a new account). */
  acceptedMediaTypes: string[] | null;
  /** Used only when the account is new: a re-connect keeps the URLs already pasted into Twilio. */
  webhookKey: string;
}

/** What updateTwilioAccount may change; an omitted field stays as it is. */
export interface AccountPatch {
  friendlyName?: string;
  apiBaseUrl?: string;
  mediaEnabled?: boolean;
  acceptedMediaTypes?: string[];
  /** A rotation: the new token, and the old one kept for webhooks until `previousTokenExpiresAt`. */
  rotation?: { authTokenSealed: string; previousAuthTokenSealed: string; previousTokenExpiresAt: Date };
}

/** Connected accounts (not disconnected) unless said otherwise. */
export class TwilioAccountsRepository extends TenantRepository {
  async list(): Promise<TwilioAccountRow[]> {
    return this.db
      .select()
      .from(twilioAccounts)
      .where(this.scoped(twilioAccounts, isNull(twilioAccounts.disconnectedAt)))
      .orderBy(asc(twilioAccounts.createdAt), asc(twilioAccounts.id));
  }

  async findById(id: string): Promise<TwilioAccountRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .select()
      .from(twilioAccounts)
      .where(this.scoped(twilioAccounts, eq(twilioAccounts.id, id), isNull(twilioAccounts.disconnectedAt)))
      .limit(1);
    return row;
  }

  /**
   * Partial update of a connected account; undefined when there is none. A rotation is applied
   * only if the token is still the one the caller checked (`expectedTokenSealed`): two admins
   * rotating at once cannot make the second silently drop the first's grace token.
   */
  async update(id: string, patch: AccountPatch, expectedTokenSealed: string): Promise<TwilioAccountRow | undefined> {
    const [row] = await this.db
      .update(twilioAccounts)
      .set({
        ...(patch.friendlyName !== undefined ? { friendlyName: patch.friendlyName } : {}),
        ...(patch.apiBaseUrl !== undefined ? { apiBaseUrl: patch.apiBaseUrl } : {}),
        ...(patch.mediaEnabled !== undefined ? { mediaEnabled: patch.mediaEnabled } : {}),
        ...(patch.acceptedMediaTypes !== undefined ? { acceptedMediaTypes: patch.acceptedMediaTypes } : {}),
        ...(patch.rotation
          ? {
              authTokenSealed: patch.rotation.authTokenSealed,
              previousAuthTokenSealed: patch.rotation.previousAuthTokenSealed,
              previousTokenExpiresAt: patch.rotation.previousTokenExpiresAt,
            }
          : {}),
        updatedAt: sql`now()`,
      })
      .where(
        this.scoped(
          twilioAccounts,
          eq(twilioAccounts.id, id),
          isNull(twilioAccounts.disconnectedAt),
          patch.rotation ? eq(twilioAccounts.authTokenSealed, expectedTokenSealed) : undefined,
        ),
      )
      .returning();
    return row;
  }

  /**
   * The first webhook signed with the new token proves Twilio promoted it: the old one is
   * refused from then on. Conditional, so concurrent webhooks clear it once.
   */
  async clearPreviousToken(id: string): Promise<boolean> {
    const rows = await this.db
      .update(twilioAccounts)
      .set({ previousAuthTokenSealed: null, previousTokenExpiresAt: null })
      .where(this.scoped(twilioAccounts, eq(twilioAccounts.id, id), isNotNull(twilioAccounts.previousAuthTokenSealed)))
      .returning({ id: twilioAccounts.id });
    return rows.length > 0;
  }

  /** Marks the account disconnected (in the caller's transaction); undefined if it was not connected. */
  async markDisconnected(id: string): Promise<TwilioAccountRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [account] = await this.db
      .update(twilioAccounts)
      .set({ disconnectedAt: sql`now()`, previousAuthTokenSealed: null, previousTokenExpiresAt: null, updatedAt: sql`now()` })
      .where(this.scoped(twilioAccounts, eq(twilioAccounts.id, id), isNull(twilioAccounts.disconnectedAt)))
      .returning();
    return account;
  }

  /** One account, disconnected or not (the numbers of its history point at it). */
  async findIncludingDisconnected(id: string): Promise<TwilioAccountRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(twilioAccounts).where(this.scoped(twilioAccounts, eq(twilioAccounts.id, id))).limit(1);
    return row;
  }

  /** Disconnected accounts included: messages and numbers of the history keep pointing at them. */
  async findByIds(ids: readonly string[]): Promise<TwilioAccountRow[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db.select().from(twilioAccounts).where(this.scoped(twilioAccounts, anyUuid(twilioAccounts.id, valid)));
  }

  /**
   * One statement, so two admins connecting the same SID at once end with one row. The unique
   * index (tenant_id, account_sid) is the arbiter; the webhook key is never replaced.
   */
  async upsert(values: UpsertAccountValues): Promise<TwilioAccountRow> {
    const [row] = await this.db
      .insert(twilioAccounts)
      .values({
        tenantId: this.tenantId,
        accountSid: values.accountSid,
        authTokenSealed: values.authTokenSealed,
        friendlyName: values.friendlyName,
        apiBaseUrl: values.apiBaseUrl,
        webhookKey: values.webhookKey,
        mediaEnabled: values.mediaEnabled ?? true,
        acceptedMediaTypes: values.acceptedMediaTypes ?? [],
      })
      .onConflictDoUpdate({
        target: [twilioAccounts.tenantId, twilioAccounts.accountSid],
        set: {
          authTokenSealed: values.authTokenSealed,
          previousAuthTokenSealed: null,
          previousTokenExpiresAt: null,
          // Re-connecting a disconnected account: new URLs (the old ones stay dead).
          webhookKey: sql`case when ${twilioAccounts.disconnectedAt} is null then ${twilioAccounts.webhookKey} else excluded.webhook_key end`,
          disconnectedAt: null,
          ...(values.friendlyNameGiven ? { friendlyName: values.friendlyName } : {}),
          apiBaseUrl: values.apiBaseUrl,
          ...(values.mediaEnabled !== null ? { mediaEnabled: values.mediaEnabled } : {}),
          ...(values.acceptedMediaTypes !== null ? { acceptedMediaTypes: values.acceptedMediaTypes } : {}),
          updatedAt: sql`now()`,
        },
      })
      .returning();
    return row!;
  }
}

/**
 * Sandbox start-up (SANDBOX=true only): every account on the simulator, across tenants, so the
 * simulator (in memory) can be told about them again and their apiBaseUrl follow its new port.
 */
export async function listSandboxAccounts(db: Db): Promise<TwilioAccountRow[]> {
  return db.select().from(twilioAccounts).where(eq(twilioAccounts.sandbox, true)).orderBy(asc(twilioAccounts.createdAt));
}

export async function setSandboxApiBaseUrl(db: Db, apiBaseUrl: string): Promise<void> {
  await db.update(twilioAccounts).set({ apiBaseUrl }).where(eq(twilioAccounts.sandbox, true));
}

/** The sandbox's seed marks the account it connected to the simulator (by its unique webhook key). */
export async function markSandboxAccount(db: Db, id: string): Promise<void> {
  await db.update(twilioAccounts).set({ sandbox: true }).where(eq(twilioAccounts.id, id));
}

/**
 * The webhook path has no token: the account (and so the tenant) is found from the key in the
 * URL, the one lookup across tenants. Everything after it is bound to the account's tenant.
 */
export async function findAccountByWebhookKey(db: Db, webhookKey: string): Promise<TwilioAccountRow | undefined> {
  const [row] = await db
    .select()
    .from(twilioAccounts)
    .where(and(eq(twilioAccounts.webhookKey, webhookKey), isNull(twilioAccounts.disconnectedAt)))
    .limit(1);
  return row;
}
