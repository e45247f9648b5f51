import { isUuid } from '../../shared/ids.js';
import { asc, eq, inArray, sql } from 'drizzle-orm';
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

export class TwilioAccountsRepository extends TenantRepository {
  async list(): Promise<TwilioAccountRow[]> {
    return this.db
      .select()
      .from(twilioAccounts)
      .where(this.scoped(twilioAccounts))
      .orderBy(asc(twilioAccounts.createdAt), asc(twilioAccounts.id));
  }

  async findById(id: string): Promise<TwilioAccountRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .select()
      .from(twilioAccounts)
      .where(this.scoped(twilioAccounts, eq(twilioAccounts.id, id)))
      .limit(1);
    return row;
  }

  async findByIds(ids: readonly string[]): Promise<TwilioAccountRow[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db.select().from(twilioAccounts).where(this.scoped(twilioAccounts, inArray(twilioAccounts.id, valid)));
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
  const [row] = await db.select().from(twilioAccounts).where(eq(twilioAccounts.webhookKey, webhookKey)).limit(1);
  return row;
}
