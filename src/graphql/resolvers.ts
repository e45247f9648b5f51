import type { NonEmptyArray } from 'type-graphql';
import { UserResolver } from '../modules/users/users.resolver.js';

/** Every resolver class of the API; the schema is built from this list. */
export const resolvers: NonEmptyArray<Function> = [UserResolver];
