import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Role } from './role.js';
import { Tenant } from '../tenants/tenant.type.js';

registerEnumType(Role, { name: 'Role' });

@ObjectType('User', { simpleResolvers: true })
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => Boolean, { description: 'false once deactivated: the user can no longer log in, their tokens and sockets stop working.' })
  active!: boolean;

  /** Not a GraphQL field: the `tenant` field is resolved from it. */
  tenantId!: string;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType('AuthPayload', { simpleResolvers: true })
export class AuthPayload {
  @Field(() => String)
  token!: string;

  @Field(() => User)
  user!: User;
}

// Imported for the field resolver's return type (users.resolver.ts).
export { Tenant };
