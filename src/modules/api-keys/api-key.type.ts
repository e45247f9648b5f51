import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Role } from '../users/role.js';

@ObjectType('ApiKey', {
  simpleResolvers: true,
  description: 'A key for server-to-server GraphQL clients: `Authorization: Bearer <secret>`; acts with its role in its tenant.',
})
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => String, { description: 'The first characters of the secret, to recognise it; the secret itself is shown once.' })
  prefix!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType('CreatedApiKey', { simpleResolvers: true })
export class CreatedApiKey {
  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field(() => String, { description: 'Shown only in this answer; stored as a hash.' })
  secret!: string;
}

@InputType('CreateApiKeyInput')
export class CreateApiKeyInput {
  @Field(() => String)
  name!: string;

  @Field(() => Role)
  role!: Role;
}
