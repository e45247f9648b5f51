import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { Role } from './role.js';
import { emailExistsAnywhere, findLoginCandidates, UsersRepository } from './users.repository.js';

export default [
  repositoryQueries({
    repository: UsersRepository,
    calls: {
      findById: (r) => r.findById(FIXTURE.userId),
      findByIds: (r) => r.findByIds([FIXTURE.userId]),
      create: (r) => r.create({ email: 'new@example.com', name: 'New', role: Role.AGENT, passwordHash: 'hash' }),
    },
  }),
  functionQueries({
    findLoginCandidates: {
      run: (db) => findLoginCandidates(db, 'admin@example.com'),
      crossTenant: 'log-in happens before a tenant is known',
    },
    emailExistsAnywhere: {
      run: (db) => emailExistsAnywhere(db, 'admin@example.com'),
      crossTenant: 'sign-up checks the email across tenants',
    },
  }),
];
