import type { Db } from '../../db/client.js';
import type { SigningAccount } from '../../twilio/webhook-verification.js';
import type { EventBus } from '../../events/event-bus.js';
import type { SecretBox } from '../../shared/secret-box.js';
import { openAuthToken } from './credentials.js';
import { findAccountByWebhookKey } from './twilio-accounts.repository.js';

/**
 * What a webhook needs of its account, with the token already decrypted (in memory only): what
 * signature verification needs (ids, tokens, the rotation grace) plus the media rules.
 */
export interface WebhookAccount extends SigningAccount {
  mediaEnabled: boolean;
  acceptedMediaTypes: readonly string[];
  /** Inbound media is kept only when it is on this API root's media origin (SSRF guard). */
  apiBaseUrl: string;
}

interface Entry {
  value: WebhookAccount | null;
  expiresAt: number;
}

const POSITIVE_TTL_MS = 30_000;
// Keys are unguessable and created before Twilio can know them, so remembering "no such key"
// cannot hide a new account; it only spares the database a scan of random keys.
const NEGATIVE_TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

/**
 * Per-instance cache of accounts by webhook key: the inbound path runs at thousands of requests
 * per second and would otherwise read (and decrypt) the account each time. A change (connect,
 * update, token rotation, disconnect) drops the entry on this instance at once (invalidate) and
 * on the others through the event bus (`twilioAccountChanged` → invalidateAccount); the short TTL
 * is only a backstop should an event be lost. Concurrent misses for one key share one query. One per running app
 * (AppDeps.accountCache), built in src/app.ts.
 */
export class WebhookAccountCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<WebhookAccount | null>>();
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly secretBox: SecretBox,
    events: EventBus | null = null,
    private readonly now: () => number = Date.now,
  ) {
    events?.listen('twilioAccountChanged', (event) => this.invalidateAccount(event.id));
  }

  /** The account of this key, or null when there is none. Throws when the database fails. */
  async get(webhookKey: string): Promise<WebhookAccount | null> {
    const hit = this.entries.get(webhookKey);
    if (hit && hit.expiresAt > this.now()) return hit.value;
    if (hit) this.entries.delete(webhookKey);

    const pending = this.loading.get(webhookKey);
    if (pending) return pending;
    const generation = this.generation;
    const load = this.load(webhookKey)
      .then((value) => {
        // An invalidate() while loading may mean the row changed after we read it: do not keep it.
        if (generation === this.generation) this.remember(webhookKey, value);
        return value;
      })
      .finally(() => this.loading.delete(webhookKey));
    this.loading.set(webhookKey, load);
    return load;
  }

  invalidate(webhookKey: string): void {
    this.entries.delete(webhookKey);
    this.generation++;
  }

  /**
   * Drops the account with this id (by id: the webhook key never travels between instances).
   * Every instance calls it on `twilioAccountChanged` (src/app.ts), so a disconnect or a rotation
   * on one instance reaches the others at once rather than after the TTL.
   */
  invalidateAccount(accountId: string): void {
    for (const [key, entry] of this.entries) if (entry.value?.id === accountId) this.entries.delete(key);
    this.generation++;
  }

  /** Straight from the database, bypassing (and refreshing) the cache. */
  async fresh(webhookKey: string): Promise<WebhookAccount | null> {
    this.invalidate(webhookKey);
    return this.get(webhookKey);
  }

  private async load(webhookKey: string): Promise<WebhookAccount | null> {
    const row = await findAccountByWebhookKey(this.db, webhookKey);
    if (!row) return null;
    return {
      id: row.id,
      tenantId: row.tenantId,
      accountSid: row.accountSid,
      // Throws if the ENCRYPTION_KEY changed: the caller answers 503, nothing is stored.
      authToken: openAuthToken(this.secretBox, row),
      previousAuthToken: row.previousAuthTokenSealed
        ? openAuthToken(this.secretBox, { ...row, authTokenSealed: row.previousAuthTokenSealed })
        : null,
      previousTokenExpiresAt: row.previousTokenExpiresAt?.getTime() ?? null,
      mediaEnabled: row.mediaEnabled,
      acceptedMediaTypes: Object.freeze([...row.acceptedMediaTypes]),
      apiBaseUrl: row.apiBaseUrl,
    };
  }

  private remember(webhookKey: string, value: WebhookAccount | null): void {
    if (this.entries.size >= MAX_ENTRIES) {
      // Map iteration is insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(webhookKey, { value, expiresAt: this.now() + (value ? POSITIVE_TTL_MS : NEGATIVE_TTL_MS) });
  }
}
