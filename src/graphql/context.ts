import DataLoader from 'dataloader';
import type { AppDeps, TenantScope } from '../shared/deps.js';
import type { Principal } from '../shared/principal.js';
import { unauthenticated } from '../shared/errors.js';
import { TenantContext } from '../tenant-context.js';
import type { LiveAudience } from '../modules/live/shared-subscriptions.js';

/**
 * A DataLoader of rows by id that also knows, synchronously, the rows this operation has already
 * read in a statement of its own (an inbox page's joins, primed with `known`). A relation field
 * answered with `loadNow` then returns the row itself, not a promise: graphql-js completes such a
 * field, and the object around it, without promises (on an inbox page of 20 conversations with
 * contact, assignee and last message, that promise machinery was a tenth of the server's CPU;
 * bench profile, issue 16).
 */
export class RowLoader<V extends { id: string }> extends DataLoader<string, V | null> {
  private readonly rows = new Map<string, V>();

  /** Rows this operation read elsewhere: answered at once by loadNow, and by load without a fetch. */
  known(rows: Iterable<V>): void {
    for (const row of rows) {
      this.rows.set(row.id, row);
      // prime() keeps a value already cached: cleared first, load() answers the same row as loadNow.
      super.clear(row.id).prime(row.id, row);
    }
  }

  /** The row itself when this operation already has it, otherwise a batched load. */
  loadNow(id: string): V | null | Promise<V | null> {
    return this.rows.get(id) ?? this.load(id);
  }

  override clear(id: string): this {
    this.rows.delete(id);
    return super.clear(id);
  }

  override clearAll(): this {
    this.rows.clear();
    return super.clearAll();
  }
}

/** Per-operation context, for HTTP requests and for each graphql-ws subscription alike. */
export class RequestContext {
  private readonly loaders = new Map<string, DataLoader<string, unknown>>();
  private tenantContext: TenantContext | null = null;
  /**
   * Set on the context of a live group that serves several viewers (live/shared-subscriptions.ts,
   * `LiveAudience`): its feed then filters nothing by this context's user and reports each row's
   * holder here, and every member's own visibility rule is applied before its frame is written.
   */
  liveAudience: LiveAudience | null = null;

  constructor(
    readonly deps: AppDeps,
    readonly requestId: string,
    readonly auth: Principal | null,
    readonly clientIp: string,
  ) {}

  get user(): Principal {
    if (!this.auth) throw unauthenticated();
    return this.auth;
  }

  /** The caller's tenant, from the verified token; what every tenant-bound service is built from. */
  scope(): TenantScope {
    return this.tenant().scope;
  }

  /** The caller's tenant-bound repositories and services, built on first use (src/tenant-context.ts). */
  tenant(): TenantContext {
    this.tenantContext ??= new TenantContext(this.deps, this.user.tenantId, this.user, this.clientIp);
    return this.tenantContext;
  }

  /**
   * A per-operation DataLoader over rows keyed by id: one query per field per level of a result,
   * whatever the page size. Rows the fetch does not return load as null.
   */
  byId<V extends { id: string }>(name: string, fetch: (ids: readonly string[]) => Promise<V[]>): RowLoader<V> {
    return this.cached(
      name,
      () =>
        new RowLoader<V>(async (ids) => {
          const byId = new Map((await fetch(ids)).map((r) => [r.id, r]));
          return ids.map((id) => byId.get(id) ?? null);
        }),
    );
  }

  /**
   * Forgets every loaded row. A subscription's context lives as long as the subscription: each
   * event must be resolved against fresh rows, not the ones cached for an earlier event.
   */
  clearLoaders(): void {
    this.loaders.clear();
  }

  /** A per-operation DataLoader with its own key-to-value mapping (e.g. rows keyed by a foreign key). */
  loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<V[]>): DataLoader<K, V> {
    return this.cached(name, () => new DataLoader<K, V>(batch));
  }

  /** This operation's loader of that name, made on first use. */
  private cached<L>(name: string, create: () => L): L {
    let loader = this.loaders.get(name) as L | undefined;
    if (!loader) {
      loader = create();
      this.loaders.set(name, loader as unknown as DataLoader<string, unknown>);
    }
    return loader;
  }
}
