import type { TenantScope } from '../../shared/deps.js';
import { badInput, conflict, isUniqueViolation, notFound, unauthenticated } from '../../shared/errors.js';
import { hashPassword, verifyPassword } from '../../shared/passwords.js';
import { conversationUpdatedEvent } from '../../events/live-events.js';
import { SessionsRepository } from './sessions.repository.js';
import { Role } from './role.js';
import { apiKeyAsUser, isApiKey, requireUser } from '../../shared/principal.js';
import { audit } from '../audit/audit.js';
import { normalizeEmail, requireName, requirePassword } from './user-input.js';
import { UsersRepository } from './users.repository.js';
import type { UserRow } from './users.schema.js';

export interface UpdateUserInput {
  name?: string | null;
  role?: Role | null;
  active?: boolean | null;
}

export class UsersService {
  private readonly users: UsersRepository;

  constructor(private readonly scope: TenantScope) {
    this.users = new UsersRepository(scope.deps.db, scope.tenantId);
  }

  /** The caller; for an API key, the key seen as a member of its tenant (apiKeyAsUser, see the README). */
  async me(): Promise<UserRow | ReturnType<typeof apiKeyAsUser>> {
    const caller = this.scope.user;
    if (isApiKey(caller)) return apiKeyAsUser(caller);
    return this.meRow();
  }

  /** The calling person's row (not for API keys). */
  private async meRow(): Promise<UserRow> {
    const caller = this.scope.user;
    requireUser(caller, 'act as a person here');
    const user = await this.users.findById(caller.userId);
    // A valid token whose user is gone (deleted) is no longer a session.
    if (!user) throw notFound('User');
    return user;
  }

  /** Every member of the tenant (agents need it for pickers too); at most 1,000. */
  list(filter: { role?: Role | null; active?: boolean | null }): Promise<UserRow[]> {
    return this.users.list(filter);
  }

  async createAgent(input: { email: string; name: string; password: string; role: Role }): Promise<UserRow> {
    const email = normalizeEmail(input.email);
    const name = requireName(input.name);
    const password = requirePassword(input.password);
    try {
      const passwordHash = await hashPassword(password);
      const user = await this.scope.deps.db.transaction(async (tx) => {
        const created = await new UsersRepository(tx, this.scope.tenantId).create({ email, name, role: input.role, passwordHash });
        await audit(this.scope).record(tx, { action: 'user.create', targetType: 'user', targetId: created.id });
        return created;
      });
      this.scope.deps.logger.info({ tenantId: this.scope.tenantId, userId: user.id, role: user.role }, 'agent created');
      return user;
    } catch (err) {
      if (isUniqueViolation(err, 'users_tenant_email_uq')) throw conflict('A user with this email already exists in this workspace');
      throw err;
    }
  }

  /**
   * ADMIN: name, role, active (omitted = unchanged). The tenant's last active ADMIN can be neither
   * demoted nor deactivated. Deactivating refuses the user's tokens at once on every instance,
   * closes their sockets (4403 "user deactivated") and puts their OPEN/PENDING conversations
   * back in the queue (assignee null, conversationUpdated), where routing re-assigns them.
   */
  async update(id: string, input: UpdateUserInput): Promise<UserRow> {
    const { deps, tenantId, user } = this.scope;
    if (input.name === null) throw badInput('name cannot be cleared', 'name');
    if (input.role === null) throw badInput('role cannot be cleared', 'role');
    if (input.active === null) throw badInput('active cannot be cleared', 'active');
    const values: { name?: string; role?: Role; active?: boolean } = {};
    if (input.name !== undefined) values.name = requireName(input.name);
    if (input.role !== undefined) values.role = input.role;
    if (input.active !== undefined) values.active = input.active;

    const result = await deps.db.transaction(async (tx) => {
      const users = new UsersRepository(tx, tenantId);
      const admins = await users.lockActiveAdmins();
      const target = await users.findById(id);
      if (!target) throw notFound('User');
      const losesAdmin = admins.includes(target.id) && ((values.role !== undefined && values.role !== Role.ADMIN) || values.active === false);
      if (losesAdmin && admins.length <= 1) {
        throw badInput('The last active admin of the workspace cannot be demoted or deactivated', values.active === false ? 'active' : 'role');
      }
      const updated = (await users.update(target.id, values))!;
      const deactivated = target.active && updated.active === false;
      const unassigned = deactivated ? await deps.assignments.releaseAllOf(tx, tenantId, target.id) : [];
      const authChanged = updated.role !== target.role || updated.active !== target.active;
      const record = (action: string) => audit(this.scope).record(tx, { action, targetType: 'user', targetId: target.id });
      if (updated.active !== target.active) await record(updated.active ? 'user.activate' : 'user.deactivate');
      if (updated.role !== target.role) await record('user.change_role');
      if (updated.name !== target.name) await record('user.update');
      return { updated, unassigned, authChanged, deactivated };
    });

    if (result.authChanged) deps.sessions.changed(tenantId, id);
    if (result.unassigned.length > 0) {
      deps.events.publish(...result.unassigned.map((cid) => conversationUpdatedEvent({ id: cid, tenantId })));
      // Released work goes back to its teams' queues and is routed now, not at the next sweep.
      void deps.routing.routeWaiting(tenantId);
    }
    deps.logger.info(
      { tenantId, userId: user.userId, targetUserId: id, fields: Object.keys(values), deactivated: result.deactivated, unassigned: result.unassigned.length },
      'user updated',
    );
    return result.updated;
  }

  /**
   * The caller's own password. Attempts count against the log-in limits (a stolen token must
   * not become a password oracle). Every other session ends; the caller gets a fresh token.
   */
  async changePassword(currentPassword: string, newPassword: string, clientIp: string): Promise<{ user: UserRow; token: string }> {
    const { deps, tenantId, user: caller } = this.scope;
    requireUser(caller, 'change passwords');
    const user = await this.meRow();
    await deps.loginLimiter.reserve(clientIp, user.email);
    if (!(await verifyPassword(currentPassword, user.passwordHash))) throw unauthenticated('The current password is wrong');
    const password = requirePassword(newPassword);
    await deps.loginLimiter.succeeded(clientIp, user.email);
    const passwordHash = await hashPassword(password);
    await deps.db.transaction(async (tx) => {
      await new UsersRepository(tx, tenantId).update(user.id, { passwordHash });
      await new SessionsRepository(tx, tenantId).revokeAllOf(user.id);
      await audit(this.scope).record(tx, { action: 'user.change_password', targetType: 'user', targetId: user.id });
    });
    const { token } = await deps.sessions.issue(user);
    deps.sessions.changed(tenantId, user.id);
    deps.logger.info({ tenantId, userId: caller.userId }, 'password changed; other sessions revoked');
    return { user, token };
  }

  /** Ends the session of the token used (its sockets close with 4403 "session revoked"). */
  async logOut(): Promise<boolean> {
    const { deps, tenantId, user } = this.scope;
    requireUser(user, 'log out');
    await new SessionsRepository(deps.db, tenantId).revoke(user.sessionId);
    deps.sessions.changed(tenantId, user.userId);
    return true;
  }

  /** ADMIN sets a user's password (there is no email); every session of that user ends. */
  async resetPassword(id: string, newPassword: string): Promise<boolean> {
    const { deps, tenantId, user } = this.scope;
    const target = await this.users.findById(id);
    if (!target) throw notFound('User');
    const passwordHash = await hashPassword(requirePassword(newPassword));
    await deps.db.transaction(async (tx) => {
      await new UsersRepository(tx, tenantId).update(target.id, { passwordHash });
      await new SessionsRepository(tx, tenantId).revokeAllOf(target.id);
      await audit(this.scope).record(tx, { action: 'user.reset_password', targetType: 'user', targetId: target.id });
    });
    deps.sessions.changed(tenantId, target.id);
    deps.logger.info({ tenantId, userId: user.userId, targetUserId: target.id }, 'password reset; sessions revoked');
    return true;
  }
}
