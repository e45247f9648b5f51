import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { authChecker } from './auth-checker.js';
import { resolvers } from './resolvers.js';

const unusedPubSub: PubSub = {
  publish() {
    throw new Error('type-graphql topics are not used: publish live events through deps.events');
  },
  subscribe() {
    throw new Error('type-graphql topics are not used: subscribe through deps.events');
  },
};

/** Builds the code-first schema; each app builds its own (no process-wide singleton). */
export function buildAppSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    authChecker,
    // Inputs are validated by the services, which own the rules and the error messages.
    validate: false,
    // Required by type-graphql once any @Subscription exists, but unused: every subscription
    // passes its own `subscribe` over the tenant-scoped EventBus (src/modules/live).
    pubSub: unusedPubSub,
  });
}

export const SCHEMA_HEADER =
  '# Emitted by `npm run schema:emit` from the type-graphql code; do not edit by hand.\n' +
  '# A test fails when this file differs from what the code builds.\n\n';

export function printAppSchema(schema: GraphQLSchema): string {
  return SCHEMA_HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
}
