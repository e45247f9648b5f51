import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';

/**
 * Where server-side HTTP calls made on a tenant's say-so (Twilio API roots, inbound media URLs)
 * may go. Every such call resolves the name itself, connects only to a vetted address, and checks
 * the address it actually connected to (an IP literal skips DNS; a rebinding name could answer
 * differently twice), so a tenant can never make us read our own network.
 */
export interface OutboundPolicy {
  /** Tests and the sandbox: loopback and private addresses are reachable (OUTBOUND_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Host names (lower case) an operator trusts whatever they resolve to (TWILIO_API_ALLOWED_HOSTS). */
  trustedHosts: readonly string[];
  /** Production: https only (trusted hosts excepted). */
  requireHttps: boolean;
}

export class OutboundBlockedError extends Error {
  override name = 'OutboundBlockedError';
  readonly code = 'EOUTBOUNDBLOCKED';
}

/**
 * Public unicast only: loopback, private, link-local, CGNAT, multicast, reserved, documentation,
 * and IPv6 forms that embed an IPv4 address (mapped, 6to4, Teredo, NAT64) are all refused.
 * An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
 */
export function isPublicAddress(address: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return false;
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

export function isAddressAllowed(address: string | undefined, policy: OutboundPolicy): boolean {
  if (!address) return false;
  return policy.allowPrivate || isPublicAddress(address);
}

export function isTrustedHost(hostname: string, policy: OutboundPolicy): boolean {
  return policy.trustedHosts.includes(hostname.toLowerCase().replace(/^\[|\]$/g, ''));
}

/** A dns.lookup that never yields an address the policy refuses. */
function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as dns.LookupAddress[];
      const trusted = isTrustedHost(hostname, policy);
      const allowed = list.filter((a) => trusted || isAddressAllowed(a.address, policy));
      if (allowed.length === 0) {
        return callback(new OutboundBlockedError(`${hostname} resolves to no address we may connect to`), '', 4);
      }
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

function isRefusedLiteral(hostname: string, policy: OutboundPolicy): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(host) && !isTrustedHost(host, policy) && !isAddressAllowed(host, policy);
}

/** Destroys a socket whose peer the policy refuses, before any request byte leaves. */
function vetConnectedSocket(socket: Socket, hostname: string, policy: OutboundPolicy): void {
  socket.once('connect', () => {
    if (isTrustedHost(hostname, policy) || isAddressAllowed(socket.remoteAddress, policy)) return;
    socket.destroy(new OutboundBlockedError(`connected address of ${hostname} is not allowed`));
  });
}

const undiciAgents = new Map<string, Agent>();
const nodeAgents = new Map<string, { http: http.Agent; https: https.Agent }>();
const keyOf = (policy: OutboundPolicy) => `${policy.allowPrivate}|${policy.trustedHosts.join(',')}`;

/** An undici dispatcher (for fetch) that resolves, connects and checks the peer under the policy. */
export function guardedDispatcher(policy: OutboundPolicy): Agent {
  const key = keyOf(policy);
  let agent = undiciAgents.get(key);
  if (!agent) {
    const connector = buildConnector({ lookup: guardedLookup(policy) } as buildConnector.BuildOptions);
    agent = new Agent({
      connections: 50,
      connect: (options, callback) => {
        // An address literal never goes through the lookup: refuse it before connecting.
        if (isRefusedLiteral(options.hostname, policy)) {
          return callback(new OutboundBlockedError(`${options.hostname} is not an address we may connect to`), null);
        }
        connector(options, (err, socket) => {
          if (err || !socket) return callback(err ?? new OutboundBlockedError('no socket'), null);
          const hostname = options.hostname;
          if (!isTrustedHost(hostname, policy) && !isAddressAllowed(socket.remoteAddress, policy)) {
            socket.destroy();
            return callback(new OutboundBlockedError(`connected address of ${hostname} is not allowed`), null);
          }
          callback(null, socket);
        });
      },
    });
    undiciAgents.set(key, agent);
  }
  return agent;
}

/**
 * createConnection of a guarded agent: a refused literal address never gets a socket, and the
 * address a name actually connected to is vetted once known (DNS rebinding).
 */
function guardedConnection(
  agent: http.Agent,
  create: unknown,
  policy: OutboundPolicy,
  options: http.ClientRequestArgs,
  callback?: (err: Error | null, socket: Socket) => void,
): Socket {
  const hostname = String(options.hostname ?? options.host ?? '');
  if (isRefusedLiteral(hostname, policy)) throw new OutboundBlockedError(`${hostname} is not an address we may connect to`);
  const socket = (create as (o: unknown, cb?: unknown) => Socket).call(agent, options, callback);
  vetConnectedSocket(socket, hostname, policy);
  return socket;
}

class GuardedHttpAgent extends http.Agent {
  constructor(private readonly policy: OutboundPolicy) {
    super({ keepAlive: true, timeout: 15_000, maxSockets: 50, lookup: guardedLookup(policy) } as http.AgentOptions);
  }
  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, socket: Socket) => void): Socket {
    return guardedConnection(this, http.Agent.prototype.createConnection, this.policy, options, callback);
  }
}

class GuardedHttpsAgent extends https.Agent {
  constructor(private readonly policy: OutboundPolicy) {
    super({ keepAlive: true, timeout: 15_000, maxSockets: 50, lookup: guardedLookup(policy) } as https.AgentOptions);
  }
  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, socket: Socket) => void): Socket {
    return guardedConnection(this, https.Agent.prototype.createConnection, this.policy, options, callback);
  }
}

/** Keep-alive node:http(s) agents (for the Twilio SDK's axios) under the policy; one pair per policy. */
export function guardedNodeAgents(policy: OutboundPolicy): { http: http.Agent; https: https.Agent } {
  const key = keyOf(policy);
  let agents = nodeAgents.get(key);
  if (!agents) {
    agents = { http: new GuardedHttpAgent(policy), https: new GuardedHttpsAgent(policy) };
    nodeAgents.set(key, agents);
  }
  return agents;
}

/**
 * Checks a URL before any connection: http(s), no credentials, and a host that is a name or an
 * allowed address literal. Names are checked again, address by address, when connecting.
 * Returns a reason when refused, null when acceptable.
 */
export function refuseUrl(url: URL, policy: OutboundPolicy): string | null {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use http or https';
  if (policy.requireHttps && url.protocol !== 'https:' && !isTrustedHost(url.hostname, policy)) return 'must use https';
  if (url.username || url.password) return 'must not contain credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isTrustedHost(host, policy)) return null;
  if (ipaddr.isValid(host)) return isAddressAllowed(host, policy) ? null : 'must not point at a private, loopback or reserved address';
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.'))) {
    return 'must be a public host name';
  }
  return null;
}

/** Resolves a host name now and refuses it when any of its addresses is not allowed. */
export async function refuseResolvedHost(hostname: string, policy: OutboundPolicy): Promise<string | null> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isTrustedHost(host, policy)) return null;
  if (ipaddr.isValid(host)) return isAddressAllowed(host, policy) ? null : 'must not point at a private, loopback or reserved address';
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true });
  } catch {
    return 'does not resolve';
  }
  if (addresses.length === 0) return 'does not resolve';
  return addresses.every((a) => isAddressAllowed(a.address, policy)) ? null : 'must resolve to public addresses only';
}
