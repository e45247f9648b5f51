import {
  Kind,
  getNamedType,
  isObjectType,
  subscribe as graphqlSubscribe,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Socket as NetSocket } from 'node:net';
import type { WebSocket } from 'ws';
import { Role } from '../users/role.js';
import { isApiKey, type Principal } from '../../shared/principal.js';
import type { Logger } from '../../shared/logger.js';
import { AUDIENCE_FEEDS } from './audience-feeds.js';
import type { Hydrated } from './live-rows.js';

/**
 * One execution per live event per group of identical subscriptions, not per subscriber.
 *
 * Subscriptions with the same document, operation, variables, tenant and visibility class (see
 * `visibilityClass`) would compute the same result for every event: they share one graphql
 * subscription (one bus subscriber, one row load, one filter, one execution), and its result is
 * serialised once and written to every member's socket as a graphql-ws `next` frame with the
 * member's own operation id. The iterator handed back to graphql-ws per member yields nothing; it
 * only ends (complete, or the error the shared source threw) and, when graphql-ws returns it
 * (client `complete`, socket closed), removes the member; the last member leaving ends the source.
 */

/** Where a member's frames go: its socket and its graphql-ws operation id. */
export interface LiveTarget {
  socket: WebSocket;
  id: string;
  /** In a group of several viewers (see `liveClass`): this member's own principal, whose visibility rule gates each frame. */
  viewer: Principal | null;
}

/** Who holds the conversation of a feed's row (null: the row has none, e.g. a user). */
export type LiveHolder = Hydrated['holder'];

/** The slot through which a feed of a several-viewer group reports each row's holder (RequestContext.liveAudience); undefined until a row passes. */
export class LiveAudience {
  holder: LiveHolder | undefined = undefined;
}

/**
 * Who sees the same results: ADMINs (users and keys alike) see every conversation of their tenant
 * and no field depends on which admin asks; an AGENT's view depends on their own assignments and
 * teams (and fields such as Contact.conversations follow it), so each agent (or agent key) is a
 * class of their own, shared by their several sockets.
 */
export function visibilityClass(principal: Principal): string {
  if (principal.role === Role.ADMIN) return `${principal.tenantId}|admin`;
  return isApiKey(principal) ? `${principal.tenantId}|key:${principal.apiKeyId}` : `${principal.tenantId}|user:${principal.userId}`;
}

/**
 * The group class of a subscription: its visibility class, or, for an AGENT whose document cannot
 * give two agents different results, one class for all of the tenant's agents. Such a group runs
 * one execution per event for every agent in it and writes the frame only to the members whose own
 * visibility rule passes the event's row (`viewer` set): at 10 agents a tenant, one execution of
 * `messageAdded { id body ... }` instead of ten (bench, issue 16). A document qualifies when its
 * one root field is a row feed that reports holders (AUDIENCE_FEEDS), without arguments or
 * directives, and everything below it is a plain field of the row (no resolver: graphql's default
 * reads the property, and the schema test forbids roles and middlewares on such fields), with no
 * fragments. Anything else keeps the per-agent class.
 */
export function liveClass(principal: Principal, schema: GraphQLSchema, operation: OperationDefinitionNode | null | undefined): { key: string; viewer: Principal | null } {
  if (principal.role !== Role.ADMIN && operation && sameForEveryViewer(schema, operation)) return { key: `${principal.tenantId}|agents`, viewer: principal };
  return { key: visibilityClass(principal), viewer: null };
}

function sameForEveryViewer(schema: GraphQLSchema, operation: OperationDefinitionNode): boolean {
  if (operation.operation !== 'subscription' || (operation.directives?.length ?? 0) > 0) return false;
  const [root, ...more] = operation.selectionSet.selections;
  if (!root || more.length > 0 || root.kind !== Kind.FIELD || (root.arguments?.length ?? 0) > 0 || (root.directives?.length ?? 0) > 0) return false;
  if (!AUDIENCE_FEEDS.has(root.name.value)) return false;
  const field = schema.getSubscriptionType()?.getFields()[root.name.value];
  const type = field && getNamedType(field.type);
  return type !== undefined && isObjectType(type) && root.selectionSet !== undefined && onlyPlainFields(type, root.selectionSet);
}

function onlyPlainFields(type: GraphQLObjectType, selectionSet: SelectionSetNode): boolean {
  for (const selection of selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || (selection.arguments?.length ?? 0) > 0 || (selection.directives?.length ?? 0) > 0) return false;
    if (selection.name.value === '__typename') continue;
    const field = type.getFields()[selection.name.value];
    if (!field || field.resolve) return false;
    const named = getNamedType(field.type);
    if (isObjectType(named) ? !selection.selectionSet || !onlyPlainFields(named, selection.selectionSet) : selection.selectionSet !== undefined) return false;
  }
  return true;
}

/**
 * The context graphql-ws holds for a subscription over a socket: where its frames go, its group
 * key, and how to build the operation's RequestContext should it start the group. graphql-ws keeps
 * it for as long as the subscription lives; the key and the builder are needed only until the
 * subscription has joined its group, and are dropped then (`settled`).
 */
export class LiveOperation {
  constructor(
    readonly target: LiveTarget,
    public key: string,
    /** Builds the group's context; `audience` is set for a group of several viewers (target.viewer). */
    public context: ((audience: LiveAudience | null) => unknown) | null,
  ) {}

  settled(): void {
    this.key = '';
    this.context = null;
  }
}

/** A socket writing more slowly than events come: frames beyond this many buffered bytes are dropped (like a full subscriber queue). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const OPEN = 1;

export interface SharedSubscriptionStats {
  /** Results computed (one per event per group). */
  executions: number;
  /** `next` frames written to sockets. */
  deliveries: number;
  /** Frames not written because the socket was too far behind. */
  dropped: number;
}

/**
 * The TCP socket under a ws WebSocket. ws keeps it in `_socket` and has no public cork; its own
 * sender corks around each frame, and net.Socket corks nest, so an outer cork batches frames.
 */
function rawSocket(socket: WebSocket): NetSocket | null {
  const raw = (socket as unknown as { _socket?: NetSocket })._socket;
  return raw && typeof raw.cork === 'function' ? raw : null;
}

/**
 * The TCP socket to write a ready-made frame to, when ws would write the frame as it is: no
 * extension negotiated (our server offers none: no permessage-deflate) and nothing queued in
 * ws's sender (it queues only while compressing or reading a Blob, neither of which we do), so
 * the frame goes out in order with what ws writes itself. Null: let ws frame it.
 */
function plainFrameSocket(socket: WebSocket): NetSocket | null {
  if (socket.extensions !== '') return null;
  const queued = (socket as unknown as { _sender?: { _queue?: unknown[] } })._sender?._queue?.length;
  return queued === 0 ? rawSocket(socket) : null;
}

/**
 * A graphql-ws `next` message for operation `id` as one unmasked WebSocket text frame (RFC 6455
 * 5.2: a server's frames are not masked), `tail` being the serialised result followed by the
 * message's closing brace. Built here rather than by ws.send so the result is encoded once per
 * event and each socket gets one buffer and one write: at 10,000 sockets, ws's per-frame string
 * concatenation, encoding and two-chunk corked write were a large share of the fan-out's CPU.
 */
export function nextFrame(id: string, tail: Buffer): Buffer {
  const head = nextMessageHead(id);
  const headBytes = Buffer.byteLength(head);
  const length = headBytes + tail.length;
  const offset = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(offset + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (length < 126) frame[1] = length;
  else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(head, offset, 'utf8');
  tail.copy(frame, offset + headBytes);
  return frame;
}

/** A graphql-ws `next` message for operation `id` up to its payload: what the ready-made frame and the ws.send fallback share. */
function nextMessageHead(id: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":`;
}

const DONE: IteratorResult<never> = { value: undefined, done: true };

/** What graphql-ws iterates for one member: nothing, until the group ends or the member leaves. */
class Member implements AsyncIterableIterator<never> {
  /** Settles the pending next(); a failure settles it with a rejected promise (one function kept, not two). */
  private settle: ((result: IteratorResult<never> | Promise<never>) => void) | null = null;
  private ended = false;
  private error: unknown = null;

  constructor(
    readonly target: LiveTarget,
    private readonly group: Group,
  ) {}

  next(): Promise<IteratorResult<never>> {
    if (this.ended) return this.error ? Promise.reject(this.error) : Promise.resolve(DONE);
    return new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  /** graphql-ws: the client completed, or the socket closed. */
  return(): Promise<IteratorResult<never>> {
    this.group.leave(this);
    this.end(null);
    return Promise.resolve(DONE);
  }

  throw(err?: unknown): Promise<IteratorResult<never>> {
    this.group.leave(this);
    this.end(null);
    return Promise.reject(err);
  }

  /** The group's source ended (null) or failed. */
  end(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    const settle = this.settle;
    this.settle = null;
    // No pending next(): the next call answers from `ended` (no rejected promise left unhandled).
    if (settle) settle(error ? Promise.reject(error) : DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<never> {
    return this;
  }
}

class Group {
  readonly members = new Set<Member>();
  /** Members waiting for the source to be ready. */
  pending = 0;
  closed = false;
  source: AsyncGenerator<ExecutionResult> | null = null;
  /** The result when subscribing failed (e.g. NOT_FOUND): the same for every member. */
  refusal: ExecutionResult | null = null;
  readonly ready: Promise<void>;

  constructor(
    private readonly hub: SharedSubscriptions,
    readonly key: string,
    args: ExecutionArgs,
    /** Set for a group of several viewers: its feed reports each row's holder here. */
    private readonly audience: LiveAudience | null,
  ) {
    this.ready = Promise.resolve()
      .then(() => graphqlSubscribe(args))
      .then(
        (result) => {
          if (Symbol.asyncIterator in result) {
            this.source = result;
            void this.pump(result);
          } else {
            this.refusal = result;
            this.close();
          }
        },
        (err: unknown) => {
          // Every waiting member gets the error; the next subscriber starts afresh.
          this.close();
          throw err;
        },
      );
  }

  join(target: LiveTarget): Member {
    const member = new Member(target, this);
    if (this.members.size > 0) this.hub.shared(+1);
    this.members.add(member);
    return member;
  }

  leave(member: Member): void {
    if (!this.members.delete(member)) return;
    if (this.members.size > 0) this.hub.shared(-1);
    else if (this.pending === 0) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.forget(this);
    void this.source?.return(undefined);
  }

  private async pump(source: AsyncGenerator<ExecutionResult>): Promise<void> {
    let error: unknown = null;
    try {
      for (;;) {
        if (this.audience) this.audience.holder = undefined;
        const result = await source.next();
        if (result.done) break;
        this.hub.stats.executions++;
        if (this.audience) {
          // The feed set the holder of the row it passed (the next row waits for this loop).
          const members = await this.hub.membersWhoSee(this.members, this.audience.holder);
          if (members.length > 0) this.hub.deliver(members, JSON.stringify(result.value));
        } else this.hub.deliver(this.members, JSON.stringify(result.value));
      }
    } catch (err) {
      error = err;
    }
    this.close();
    if (this.members.size > 1) this.hub.shared(-(this.members.size - 1));
    for (const member of this.members) member.end(error);
    this.members.clear();
  }
}

export class SharedSubscriptions {
  private readonly groups = new Map<string, Group>();
  readonly stats: SharedSubscriptionStats = { executions: 0, deliveries: 0, dropped: 0 };

  /**
   * `shared(n)`: n more subscriptions are served by an existing bus subscriber (EventBus.subscriberCount).
   * `visible`: the live visibility rule for one viewer and a row's holder (live.resolver's), applied
   * per member in groups of several viewers.
   */
  constructor(
    readonly shared: (delta: number) => void,
    private readonly logger: Logger,
    private readonly visible: (viewer: Principal, holder: LiveHolder) => Promise<boolean>,
  ) {}

  get groupCount(): number {
    return this.groups.size;
  }

  /**
   * graphql-ws's `subscribe`: a LiveOperation joins (or starts) the group of its key; anything
   * else is a plain graphql subscription.
   */
  async subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<never> | ExecutionResult | AsyncGenerator<ExecutionResult>> {
    const operation = args.contextValue;
    if (!(operation instanceof LiveOperation)) return graphqlSubscribe(args);
    for (;;) {
      let group = this.groups.get(operation.key);
      if (!group) {
        // The key names the class (liveClass): every member of a several-viewer class has a viewer.
        const audience = operation.target.viewer ? new LiveAudience() : null;
        this.groups.set(operation.key, (group = new Group(this, operation.key, { ...args, contextValue: operation.context!(audience) }, audience)));
      }
      group.pending++;
      try {
        await group.ready;
      } finally {
        group.pending--;
      }
      if (group.refusal) {
        operation.settled();
        return group.refusal;
      }
      // The group ended while this one waited (its source ended): start another.
      if (group.closed) continue;
      operation.settled();
      return group.join(operation.target);
    }
  }

  /**
   * The members of a several-viewer group allowed to see a row of this holder: each viewer's own
   * rule, asked once per viewer (an agent's sockets share it). Fails closed: no holder reported,
   * no viewer, or a rule that failed, and the member gets nothing.
   */
  async membersWhoSee(members: ReadonlySet<Member>, holder: LiveHolder | undefined): Promise<Member[]> {
    if (holder === undefined) {
      this.logger.warn('a live row came without its holder; not sent');
      return [];
    }
    const verdicts = new Map<string, Promise<boolean>>();
    const snapshot = [...members];
    const allowed = await Promise.all(
      snapshot.map((member) => {
        const viewer = member.target.viewer;
        if (!viewer) return false;
        const key = visibilityClass(viewer);
        let verdict = verdicts.get(key);
        if (!verdict) {
          verdict = this.visible(viewer, holder).catch((err: unknown) => {
            this.logger.error({ err }, 'could not decide whether a live row is visible; not sent');
            return false;
          });
          verdicts.set(key, verdict);
        }
        return verdict;
      }),
    );
    // A member that left while the rules were asked gets nothing.
    return snapshot.filter((member, i) => allowed[i] && members.has(member));
  }

  /** Writes one serialised result to every member's socket. */
  deliver(members: Iterable<Member>, payload: string): void {
    // Many members share a socket (a dashboard subscribes to several feeds, or many of one kind):
    // corked, a socket's frames of this event leave in one write instead of one syscall each.
    const corked = new Set<NetSocket>();
    for (const member of members) {
      const raw = rawSocket(member.target.socket);
      if (raw && !corked.has(raw)) {
        raw.cork();
        corked.add(raw);
      }
    }
    try {
      this.write(members, payload);
    } finally {
      for (const raw of corked) raw.uncork();
    }
  }

  private write(members: Iterable<Member>, payload: string): void {
    // What every member's frame shares, encoded once: the result and the message's closing brace.
    let tail: Buffer | null = null;
    for (const member of members) {
      const { socket, id } = member.target;
      if (socket.readyState !== OPEN) continue;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.stats.dropped++;
        if (this.stats.dropped % 1000 === 1) this.logger.warn({ dropped: this.stats.dropped }, 'live frames dropped for sockets too far behind');
        continue;
      }
      try {
        const raw = plainFrameSocket(socket);
        if (raw) raw.write(nextFrame(id, (tail ??= Buffer.from(`${payload}}`))));
        else socket.send(`${nextMessageHead(id)}${payload}}`);
        this.stats.deliveries++;
      } catch (err) {
        // One socket's failure is its own: the others still get the frame.
        this.logger.warn({ err }, 'could not write a live frame');
      }
    }
  }

  forget(group: Group): void {
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
  }
}
