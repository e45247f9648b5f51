import 'reflect-metadata';
import { assertValidSchema, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
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
export async function buildAppSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers,
    authChecker,
    // Inputs are validated by the services, which own the rules and the error messages.
    validate: false,
    // Required by type-graphql once any @Subscription exists, but unused: every subscription
    // passes its own `subscribe` over the tenant-scoped EventBus (src/modules/live).
    pubSub: unusedPubSub,
    // type-graphql's own check executes the whole introspection query over the new schema,
    // ~0.15 s of every start (issue 16); graphql's schema validation, right below, still refuses
    // an invalid schema at start-up, and keeps its result for the first request.
    skipCheck: true,
  });
  assertValidSchema(schema);
  return schema;
}

export const SCHEMA_HEADER =
  '# Emitted by `npm run schema:emit` from the type-graphql code; do not edit by hand.\n' +
  '# A test fails when this file differs from what the code builds.\n\n';

export function printAppSchema(schema: GraphQLSchema): string {
  return SCHEMA_HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
}
