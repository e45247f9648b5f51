import type { Db } from '../../db/client.js';
import type { SecretBox } from '../../shared/secret-box.js';
import { openAuthToken } from './credentials.js';
import { findAccountByWebhookKey } from './twilio-accounts.repository.js';

/** What a webhook needs of its account, with the token already decrypted (in memory only). */
export interface WebhookAccount {
  id: string;
  tenantId: string;
  accountSid: string;
  authToken: string;
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
 * per second and would otherwise read (and decrypt) the account each time. A short TTL bounds
 * how long another instance keeps an old token after a re-connect; this instance drops the
 * entry at once (invalidate). Concurrent misses for one key share one query. One per running app
 * (AppDeps.accountCache), built in src/app.ts.
 */
export class WebhookAccountCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<WebhookAccount | null>>();
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly secretBox: SecretBox,
    private readonly now: () => number = Date.now,
  ) {}

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

  private async load(webhookKey: string): Promise<WebhookAccount | null> {
    const row = await findAccountByWebhookKey(this.db, webhookKey);
    if (!row) return null;
    return {
      id: row.id,
      tenantId: row.tenantId,
      accountSid: row.accountSid,
      // Throws if the ENCRYPTION_KEY changed: the caller answers 503, nothing is stored.
      authToken: openAuthToken(this.secretBox, row),
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
