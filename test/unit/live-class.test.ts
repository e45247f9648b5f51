import { getOperationAST, parse, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAppSchema } from '../../src/graphql/schema.js';
import { liveClass, visibilityClass } from '../../src/modules/live/shared-subscriptions.js';
import { Role } from '../../src/modules/users/role.js';
import type { Principal } from '../../src/shared/principal.js';

/**
 * Which subscriptions of an AGENT may share a group with other agents (one execution, each
 * member's own visibility rule before its frame): only a row feed without arguments whose whole
 * selection is plain fields of the row. Everything else stays one group per agent.
 */
let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

const tenantId = '11111111-1111-4111-8111-111111111111';
const agent: Principal = { userId: '22222222-2222-4222-8222-222222222222', tenantId, role: Role.AGENT, sessionId: 's' };
const otherAgent: Principal = { userId: '33333333-3333-4333-8333-333333333333', tenantId, role: Role.AGENT, sessionId: 's' };
const agentKey: Principal = { kind: 'apiKey', apiKeyId: '44444444-4444-4444-8444-444444444444', tenantId, role: Role.AGENT, name: 'k', createdAt: new Date() };
const admin: Principal = { userId: '55555555-5555-4555-8555-555555555555', tenantId, role: Role.ADMIN, sessionId: 's' };

const classOf = (principal: Principal, document: string) => liveClass(principal, schema, getOperationAST(parse(document)));

describe('liveClass', () => {
  const shared = [
    'subscription { messageAdded { id conversationId body direction status createdAt __typename } }',
    'subscription Feed { messageUpdated { id status errorCode } }',
    'subscription { conversationUpdated { id status unreadCount lastMessageAt } }',
    'subscription { userUpdated { id name email role active } }',
    'subscription { contactUpdated { id name blocked optedOut } }',
  ];
  it.each(shared)('puts the agents of a tenant in one class for %s', (document) => {
    const one = classOf(agent, document);
    const two = classOf(otherAgent, document);
    const key = classOf(agentKey, document);
    expect(one.key).toBe(two.key);
    expect(key.key).toBe(one.key);
    expect(one.key).not.toBe(visibilityClass(agent));
    // Each member keeps its own principal: its visibility rule gates its frames.
    expect(one.viewer).toBe(agent);
    expect(two.viewer).toBe(otherAgent);
    expect(classOf({ ...agent, tenantId: '66666666-6666-4666-8666-666666666666' }, document).key).not.toBe(one.key);
  });

  const perAgent = [
    ['a resolved field', 'subscription { messageAdded { id author { id } } }'],
    ['a resolved field deeper', 'subscription { conversationUpdated { id contact { id conversations(first: 5) { edges { node { id } } } } } }'],
    ['an argument on the feed', 'subscription($c: ID) { messageAdded(conversationId: $c) { id body } }'],
    ['a fragment', 'subscription { messageAdded { ...M } } fragment M on Message { id body }'],
    ['an inline fragment', 'subscription { messageAdded { ... on Message { id body } } }'],
    ['a directive', 'subscription($x: Boolean!) { messageAdded { id body @include(if: $x) } }'],
    ['a feed that filters by its own user', 'subscription { conversationRemoved }'],
    ['a feed outside the row feeds', 'subscription($c: ID!) { campaignUpdated(campaignId: $c) { id status } }'],
    ['a query', '{ messages: conversations(first: 1) { edges { node { id } } } }'],
  ] as const;
  it.each(perAgent)('keeps one class per agent for %s', (_what, document) => {
    expect(classOf(agent, document)).toEqual({ key: visibilityClass(agent), viewer: null });
    expect(classOf(agentKey, document)).toEqual({ key: visibilityClass(agentKey), viewer: null });
  });

  it('keeps admins in their own class, whatever the document', () => {
    for (const document of [...shared, ...perAgent.map(([, d]) => d)]) expect(classOf(admin, document)).toEqual({ key: visibilityClass(admin), viewer: null });
  });
});
