import DataLoader from 'dataloader';
import type { AppDeps, AuthUser, TenantScope } from '../shared/deps.js';
import { unauthenticated } from '../shared/errors.js';
import { TenantContext } from '../tenant-context.js';

/** Per-operation context, for HTTP requests and for each graphql-ws subscription alike. */
export class RequestContext {
  private readonly loaders = new Map<string, DataLoader<string, unknown>>();
  private tenantContext: TenantContext | null = null;

  constructor(
    readonly deps: AppDeps,
    readonly requestId: string,
    readonly auth: AuthUser | null,
    readonly clientIp: string,
  ) {}

  get user(): AuthUser {
    if (!this.auth) throw unauthenticated();
    return this.auth;
  }

  /** The caller's tenant, from the verified token; what every tenant-bound service is built from. */
  scope(): TenantScope {
    return this.tenant().scope;
  }

  /** The caller's tenant-bound repositories and services, built on first use (src/tenant-context.ts). */
  tenant(): TenantContext {
    this.tenantContext ??= new TenantContext(this.deps, this.user.tenantId, this.user);
    return this.tenantContext;
  }

  /**
   * A per-operation DataLoader over rows keyed by id: one query per field per level of a result,
   * whatever the page size. Rows the fetch does not return load as null.
   */
  byId<V extends { id: string }>(name: string, fetch: (ids: readonly string[]) => Promise<V[]>): DataLoader<string, V | null> {
    return this.loader<string, V | null>(name, async (ids) => {
      const byId = new Map((await fetch(ids)).map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    });
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
    let loader = this.loaders.get(name) as unknown as DataLoader<K, V> | undefined;
    if (!loader) {
      loader = new DataLoader<K, V>(batch);
      this.loaders.set(name, loader as unknown as DataLoader<string, unknown>);
    }
    return loader;
  }
}
