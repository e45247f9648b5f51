import { randomBytes } from 'node:crypto';
import type { AppDeps } from '../../shared/deps.js';
import { DomainError, ErrorCode, conflict, isUniqueViolation, unauthenticated } from '../../shared/errors.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../shared/passwords.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';
import type { TenantRow } from '../tenants/tenants.schema.js';
import { Role } from './role.js';
import { normalizeEmail, requireName, requirePassword, slugify } from './user-input.js';
import { UsersRepository, emailExistsAnywhere, findLoginCandidates } from './users.repository.js';
import type { UserRow } from './users.schema.js';

export interface AuthResult {
  token: string;
  user: UserRow;
}

/** Sign-up and log-in: the only flows that run before a tenant is known. */
export class AuthService {
  constructor(private readonly deps: AppDeps) {}

  async signUp(input: { tenantName: string; name: string; email: string; password: string }): Promise<AuthResult> {
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
          return new UsersRepository(tx, tenant.id).create({ email, name, role: Role.ADMIN, passwordHash });
        });
        this.deps.logger.info({ tenantId: user.tenantId, userId: user.id }, 'tenant signed up');
        return { user, token: this.issue(user) };
      } catch (err) {
        // Two sign-ups of the same name at once can pick the same slug: try again with another.
        if (isUniqueViolation(err, 'tenants_slug_unique')) continue;
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

  async logIn(input: { email: string; password: string; tenantSlug?: string | null }, clientIp: string): Promise<AuthResult> {
    const email = input.email.trim().toLowerCase();
    await this.deps.loginLimiter.assertAllowed(clientIp, email);

    const candidates = await findLoginCandidates(this.deps.db, email, input.tenantSlug?.trim() || null);
    const matches: typeof candidates = [];
    for (const candidate of candidates) {
      if (await verifyPassword(input.password, candidate.user.passwordHash)) matches.push(candidate);
    }
    // Unknown email and wrong password take the same time and get the same answer.
    if (candidates.length === 0) await verifyPassword(input.password, await dummyPasswordHash());

    if (matches.length === 0) {
      await this.deps.loginLimiter.recordFailure(clientIp, email);
      throw unauthenticated('Invalid email or password');
    }
    if (matches.length > 1) {
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'This email belongs to several workspaces: give tenantSlug', {
        field: 'tenantSlug',
        tenantSlugs: matches.map((m) => m.tenantSlug),
      });
    }
    await this.deps.loginLimiter.recordSuccess(clientIp, email);
    const user = matches[0]!.user;
    return { user, token: this.issue(user) };
  }

  private issue(user: UserRow): string {
    return this.deps.tokens.sign({ userId: user.id, tenantId: user.tenantId, role: user.role as Role });
  }
}
