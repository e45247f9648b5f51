import { randomBytes } from 'node:crypto';
import type { AppDeps } from '../../shared/deps.js';
import { DomainError, ErrorCode, conflict, isUniqueViolation, unauthenticated } from '../../shared/errors.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../shared/passwords.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';
import type { TenantRow } from '../tenants/tenants.schema.js';
import { Role } from './role.js';
import { normalizeEmail, requireName, requirePassword, slugify } from './user-input.js';
import { UsersRepository, emailExistsAnywhere, findLoginCandidate } from './users.repository.js';
import type { UserRow } from './users.schema.js';

export interface AuthResult {
  token: string;
  user: UserRow;
}

/** Sign-up and log-in: the only flows that run before a tenant is known. */
export class AuthService {
  constructor(private readonly deps: AppDeps) {}

  async signUp(input: { tenantName: string; name: string; email: string; password: string }, clientIp: string): Promise<AuthResult> {
    await this.deps.signUpLimiter.reserve(clientIp);
    const tenantName = requireName(input.tenantName, 'tenantName');
    const name = requireName(input.name);
    const email = normalizeEmail(input.email);
    const password = requirePassword(input.password);
    // Self-service sign-up with an address already in use would create a second, confusable
    // login; the owner logs in instead, or an admin adds them as an agent (createAgent).
    if (await emailExistsAnywhere(this.deps.db, email)) {
      throw conflict('An account with this email already exists; log in instead');
    }
    const passwordHash = await hashPassword(password);

    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const user = await this.deps.db.transaction(async (tx) => {
          const tenantsRepo = new TenantsRepository(tx);
          const tenant: TenantRow = await tenantsRepo.create(tenantName, await this.freeSlug(tenantsRepo, tenantName, attempt));
          return new UsersRepository(tx, tenant.id).create({ email, name, role: Role.ADMIN, passwordHash, signedUp: true });
        });
        this.deps.logger.info({ tenantId: user.tenantId, userId: user.id }, 'tenant signed up');
        return { user, token: await this.issue(user) };
      } catch (err) {
        // Two sign-ups of the same name at once can pick the same slug: try again with another.
        if (isUniqueViolation(err, 'tenants_slug_unique')) continue;
        if (isUniqueViolation(err, 'users_signed_up_email_uq')) throw conflict('An account with this email already exists; log in instead');
        throw err;
      }
    }
    throw new DomainError(ErrorCode.CONFLICT, 'Could not allocate a workspace slug; try again');
  }

  private async freeSlug(repo: TenantsRepository, tenantName: string, attempt: number): Promise<string> {
    const base = slugify(tenantName);
    if (attempt > 0) return `${base}-${randomBytes(3).toString('hex')}`;
    const taken = new Set(await repo.slugsLike(base));
    if (!taken.has(base)) return base;
    for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
  }

  /**
   * One password hash per attempt, whatever other tenants did with the same email: with
   * tenantSlug, exactly that tenant's row; without it, only the row signUp created for the email
   * (agents log in with their workspace's slug). The attempt is reserved before the check.
   */
  async logIn(input: { email: string; password: string; tenantSlug?: string | null }, clientIp: string): Promise<AuthResult> {
    const email = input.email.trim().toLowerCase();
    await this.deps.loginLimiter.reserve(clientIp, email);

    const candidate = await findLoginCandidate(this.deps.db, email, input.tenantSlug?.trim() || null);
    // Unknown email, wrong password and a deactivated user take the same time and get the same answer.
    const passwordOk = await verifyPassword(input.password, candidate?.passwordHash ?? (await dummyPasswordHash()));
    if (!candidate || !passwordOk || !candidate.active) {
      throw unauthenticated(
        input.tenantSlug ? 'Invalid email or password' : 'Invalid email or password (agents: give your workspace’s tenantSlug)',
      );
    }
    await this.deps.loginLimiter.succeeded(clientIp, email);
    return { user: candidate, token: await this.issue(candidate) };
  }

  /** A new session (a row in `sessions`) and the token naming it. */
  private async issue(user: UserRow): Promise<string> {
    return (await this.deps.sessions.issue(user)).token;
  }
}
