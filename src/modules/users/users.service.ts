import type { TenantScope } from '../../shared/deps.js';
import { conflict, isUniqueViolation, notFound } from '../../shared/errors.js';
import { hashPassword } from '../../shared/passwords.js';
import type { Role } from './role.js';
import { normalizeEmail, requireName, requirePassword } from './user-input.js';
import { UsersRepository } from './users.repository.js';
import type { UserRow } from './users.schema.js';

export class UsersService {
  private readonly users: UsersRepository;

  constructor(private readonly scope: TenantScope) {
    this.users = new UsersRepository(scope.deps.db, scope.tenantId);
  }

  async me(): Promise<UserRow> {
    const user = await this.users.findById(this.scope.user.userId);
    // A valid token whose user is gone (deleted) is no longer a session.
    if (!user) throw notFound('User');
    return user;
  }

  async createAgent(input: { email: string; name: string; password: string; role: Role }): Promise<UserRow> {
    const email = normalizeEmail(input.email);
    const name = requireName(input.name);
    const password = requirePassword(input.password);
    try {
      const user = await this.users.create({ email, name, role: input.role, passwordHash: await hashPassword(password) });
      this.scope.deps.logger.info({ tenantId: this.scope.tenantId, userId: user.id, role: user.role }, 'agent created');
      return user;
    } catch (err) {
      if (isUniqueViolation(err, 'users_tenant_email_uq')) throw conflict('A user with this email already exists in this workspace');
      throw err;
    }
  }
}
