/**
 * The read path's peer (issue 16): PostGraphile 4 on the bench database's tables, serving the
 * inbox page of the queries scenario, in two set-ups (workers/postgraphile-server.ts):
 *
 * - `rls`, the one scored: PostGraphile as its documentation sets up multi-tenant data. It verifies
 *   the agent's own token, and row-level security keeps the token's tenant. This is the job our
 *   server does (an authenticated agent reads their tenant's page, the tenant taken from the token,
 *   never from the request).
 * - `condition`, for reference: no authentication, the tenant a `condition` argument the client
 *   sends. PostGraphile's fastest path (one statement, no transaction), but open to any tenant's
 *   data: not a set-up one could deploy for this product.
 *
 * Neither applies our visibility rule (an agent sees their own, their teams' and team-less
 * conversations) nor hides blocked contacts' conversations: with no teams and no blocked contacts
 * in the seeded tenant the pages are the same, which is checked before anything is timed.
 */
import { runLoad, loadLine, type Ctx, type MeasuredLoad } from './context.js';
import { gqlOk } from './gql.js';
import { spawnNode, type Child } from './procs.js';
import { freePort } from './server.js';

export type PeerKind = 'rls' | 'condition';

export interface ReadPeer {
  kind: PeerKind;
  label: string;
  child: Child;
  origin: string;
}

export interface LoadRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
}

/** One side of the comparison over all its windows. */
export interface Side {
  throughput: number;
  /** Answers not 2xx, and errors, over all windows. */
  failed: number;
  cpu?: { serverMsPerRequest: number; postgresMsPerRequest: number };
}

export interface PeerComparison {
  rounds: number;
  seconds: number;
  ours: Side;
  peers: Record<PeerKind, Side>;
}

const LABELS: Record<PeerKind, string> = {
  rls: "PostGraphile 4, agent's token + row-level security",
  condition: 'PostGraphile 4, no authentication, tenant as a condition',
};

/**
 * The same page asked of PostGraphile: the same order (newest activity first, id as tie-break),
 * page size and fields. The worker's smart tags give the relations our names; `conversations:` is
 * an alias.
 */
function peerQuery(kind: PeerKind): string {
  const byCondition = kind === 'condition';
  return `query Inbox(${byCondition ? '$tenantId: UUID!, ' : ''}$first: Int, $after: Cursor) {
  conversations: allConversations(first: $first, after: $after, ${byCondition ? 'condition: { tenantId: $tenantId }, ' : ''}orderBy: [LAST_MESSAGE_AT_DESC, ID_DESC]) {
    edges { cursor node { id status unreadCount lastMessageAt
      contact { id phoneNumber name optedOut }
      assignee { id name email }
      lastMessage { id body direction status createdAt } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
}

function peerRequest(kind: PeerKind, tenantId: string, ours: LoadRequest): LoadRequest {
  return kind === 'rls'
    ? {
        path: '/graphql',
        body: JSON.stringify({ query: peerQuery(kind), variables: { first: 20 } }),
        headers: { 'Content-Type': 'application/json', Authorization: ours.headers.Authorization! },
      }
    : {
        path: '/graphql',
        body: JSON.stringify({ query: peerQuery(kind), variables: { tenantId, first: 20 } }),
        headers: { 'Content-Type': 'application/json' },
      };
}

/** Starts both set-ups on the bench database (introspection and schema build take a few seconds). */
export async function startReadPeers(ctx: Ctx): Promise<ReadPeer[]> {
  const peers: ReadPeer[] = [];
  for (const kind of ['rls', 'condition'] as const) {
    const port = await freePort();
    const child = spawnNode(`postgraphile-${kind}`, 'bench/workers/postgraphile-server.ts', {
      env: {
        PORT: String(port),
        PEER_DATABASE_URL: ctx.db.url,
        NODE_ENV: 'production',
        ...(kind === 'rls' ? { PEER_JWT_SECRET: ctx.serverOptions.jwtSecret } : {}),
      },
      echoStderr: true,
    });
    peers.push({ kind, label: LABELS[kind], child, origin: `http://127.0.0.1:${port}` });
  }
  return peers;
}

export async function peersReady(peers: ReadPeer[], timeoutMs: number): Promise<void> {
  await Promise.all(peers.map((p) => p.child.waitForLine(/postgraphile ready at/, timeoutMs)));
}

interface Page {
  conversations: {
    edges: Array<{ node: Record<string, unknown> }>;
    pageInfo: { hasNextPage: boolean };
  };
}

/** What both pages must agree on: every field of the page, timestamps as instants (formats differ), cursors aside. */
function comparable(page: Page): string {
  const at = (v: unknown) => (typeof v === 'string' ? new Date(v).getTime() : v);
  return JSON.stringify({
    hasNextPage: page.conversations.pageInfo.hasNextPage,
    nodes: page.conversations.edges.map(({ node }) => {
      const last = node.lastMessage as Record<string, unknown> | null;
      return { ...node, lastMessageAt: at(node.lastMessageAt), lastMessage: last && { ...last, createdAt: at(last.createdAt) } };
    }),
  });
}

/** Several windows of one side as one: 2xx answers over their summed time, CPU per request weighted. */
function combined(runs: MeasuredLoad[]): Side {
  const ok = runs.reduce((n, r) => n + r.ok2xx, 0);
  const elapsed = runs.reduce((n, r) => n + r.elapsedMs, 0);
  const weighted = (pick: (c: NonNullable<MeasuredLoad['cpu']>) => number) => runs.reduce((n, r) => n + pick(r.cpu!) * r.ok2xx, 0) / ok;
  return {
    throughput: elapsed > 0 ? (ok * 1000) / elapsed : 0,
    failed: runs.reduce((n, r) => n + r.non2xx + r.errors, 0),
    ...(ok > 0 && runs.every((r) => r.cpu)
      ? { cpu: { serverMsPerRequest: weighted((c) => c.serverMsPerRequest), postgresMsPerRequest: weighted((c) => c.postgresMsPerRequest) } }
      : {}),
  };
}

/**
 * Each peer's page must hold the same conversations in the same order as ours, with the same
 * contact, assignee and last message fields, before it is measured. Then the same load (same
 * connections, same total time as our own run) on every side, in windows that rotate so ours always
 * sits between the two peers (rls, ours, condition; condition, ours, rls; …; sizes.queryPeerRounds
 * rounds of querySeconds / rounds each): whatever else the shared machine does drifts over all
 * sides alike, which one long window after another does not.
 */
export async function compareWithPeers(ctx: Ctx, peers: ReadPeer[], scenario: string, tenantId: string, ours: LoadRequest): Promise<PeerComparison> {
  const { sizes, report } = ctx;
  const requests = new Map(peers.map((p) => [p.kind, peerRequest(p.kind, tenantId, ours)]));
  const token = ours.headers.Authorization!.slice('Bearer '.length);
  for (const peer of peers) {
    const request = requests.get(peer.kind)!;
    const res = await fetch(`${peer.origin}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
    const theirs = (await res.json()) as { data?: Page; errors?: unknown };
    if (!res.ok || theirs.errors || !theirs.data) {
      throw new Error(`${peer.label}: no page (HTTP ${res.status}): ${JSON.stringify(theirs).slice(0, 600)}`);
    }
    // Ours at the same moment, so both read the same rows.
    const now = await gqlOk<Page>(ctx.server.graphqlUrl, JSON.parse(ours.body).query, { first: 20 }, token);
    const [a, b] = [comparable(now), comparable(theirs.data)];
    if (a !== b) throw new Error(`${peer.label}: not the same page:\nours   ${a.slice(0, 600)}\ntheirs ${b.slice(0, 600)}`);
    report.detail(scenario, `${peer.label}: page checked, the same ${now.conversations.edges.length} conversations in the same order with the same fields`);
    await runLoad({ origin: peer.origin, request, amount: 0, durationSec: sizes.queryWarmupSeconds, connections: sizes.queryConnections });
  }

  const rounds = Math.max(1, sizes.queryPeerRounds);
  const seconds = Math.max(1, Math.round(sizes.querySeconds / rounds));
  report.detail(
    scenario,
    `against the peers: ${rounds} window(s) of ${seconds} s per side, ours always between the two PostGraphile set-ups; each side's req/s = its 2xx answers over its windows' time (these rows, not our ${sizes.querySeconds} s run above)`,
  );
  const sides: WindowSide[] = [
    { key: 'ours', label: 'ours', origin: ctx.server.origin, request: ours, pid: ctx.server.pid },
    ...peers.map((p) => ({ key: p.kind, label: p.label, origin: p.origin, request: requests.get(p.kind)!, pid: p.child.pid })),
  ];
  // ours always between the two peers: rls, ours, condition; condition, ours, rls; ...
  const measured = await alternateWindows(ctx, scenario, sides, rounds, seconds, (i) => {
    const order = (i % 2 === 0 ? peers : [...peers].reverse()).map((p) => p.kind as string);
    return [order[0]!, 'ours', ...order.slice(1)];
  });
  const side = (kind: PeerKind) => measured.get(kind) ?? combined([]);
  return { rounds, seconds, ours: measured.get('ours')!, peers: { rls: side('rls'), condition: side('condition') } };
}

/** One side of a windowed comparison: where its load goes and whose CPU is counted. */
export interface WindowSide {
  key: string;
  /** How its windows are named in the details. */
  label: string;
  origin: string;
  request: LoadRequest;
  pid: number;
}

/**
 * The same load on every side in windows of `seconds`, `rounds` rounds, each round in the order
 * `orderOf(round)` gives (side keys); each side's windows combined. Alternating sides spreads
 * whatever else the shared machine does over all of them alike, which one long window per side
 * does not.
 */
export async function alternateWindows(
  ctx: Ctx,
  scenario: string,
  sides: WindowSide[],
  rounds: number,
  seconds: number,
  orderOf: (round: number) => string[],
): Promise<Map<string, Side>> {
  const { sizes, report } = ctx;
  const runs = new Map<string, MeasuredLoad[]>(sides.map((side) => [side.key, []]));
  const byKey = new Map(sides.map((side) => [side.key, side]));
  for (let i = 0; i < rounds; i++) {
    for (const key of orderOf(i)) {
      const side = byKey.get(key)!;
      const r = await runLoad({ origin: side.origin, request: side.request, amount: 0, durationSec: seconds, connections: sizes.queryConnections }, side.pid);
      const list = runs.get(key)!;
      list.push(r);
      report.detail(scenario, loadLine(`${side.label}, window ${list.length}/${rounds}, ${seconds} s, ${sizes.queryConnections} connections`, r));
    }
  }
  return new Map([...runs].map(([key, list]) => [key, combined(list)]));
}
