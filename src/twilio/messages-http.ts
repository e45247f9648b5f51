/**
 * The outbox's hot call, `POST /2010-04-01/Accounts/{AC}/Messages.json`, made with undici over a
 * keep-alive pool instead of through the SDK (axios, the SDK's request and response objects):
 * the SDK path cost more CPU per send than the send's database work. Every other Twilio call
 * stays on the SDK (src/twilio/client.ts).
 *
 * Same contract as the SDK call it replaces: the same form parameters, Basic auth, no redirect
 * followed, every failure a TwilioApiError of the same kind, code and message (the client tests
 * run both paths against the fake). Connections go through the outbound guard's undici agent, so
 * the address actually connected to is checked on every new connection (SSRF).
 */
import { Agent, request, type Dispatcher } from 'undici';
import { guardedDispatcher, type OutboundPolicy } from '../shared/outbound-guard.js';
import type { CreateMessageInput } from './client.js';
import { TwilioApiError } from './errors.js';

/** The Messages POST's fields: the SDK path's input (client.ts), so both paths post the same form. */
export type MessagePost = CreateMessageInput;

/** Unit tests of the wrapper build clients without a policy: one plain keep-alive pool for them. */
let unguarded: Agent | null = null;

/** The pool a client posts through: the guarded agent (one pool per origin inside it) when a policy is given. */
export function messagesDispatcher(outbound: OutboundPolicy | undefined): Dispatcher {
  if (outbound) return guardedDispatcher(outbound);
  unguarded ??= new Agent({ connections: 50, keepAliveTimeout: 15_000 });
  return unguarded;
}

/** `${root}/2010-04-01/Accounts/{sid}/Messages.json`; root null means api.twilio.com. */
export function messagesUrl(root: URL | null, accountSid: string): string {
  const base = root === null ? 'https://api.twilio.com' : `${root.origin}${root.pathname.replace(/\/+$/, '')}`;
  return `${base}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
}

/** The form the SDK would send: its parameter names, MediaUrl repeated, Body always present. */
export function messageForm(input: MessagePost): string {
  const form = new URLSearchParams();
  form.append('To', input.to);
  form.append('Body', input.body);
  form.append('StatusCallback', input.statusCallback);
  if (input.from !== undefined) form.append('From', input.from);
  if (input.messagingServiceSid !== undefined) form.append('MessagingServiceSid', input.messagingServiceSid);
  for (const url of input.mediaUrl ?? []) form.append('MediaUrl', url);
  return form.toString();
}

/**
 * Posts one message. `signal` bounds the whole call (the caller's deadline); an abort becomes a
 * `timeout` error. Never carries the request (and so the Authorization header) in an error.
 */
export async function postMessage(
  dispatcher: Dispatcher,
  url: string,
  authorization: string,
  input: MessagePost,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ sid: string; status: string }> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'POST',
      dispatcher,
      signal,
      headers: {
        authorization,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'user-agent': 'sms-inbox-api (undici)',
      },
      body: messageForm(input),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (err) {
    throw networkError(err, signal, timeoutMs);
  }
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    throw networkError(err, signal, timeoutMs);
  }
  const json = parseJson(text);
  if (res.statusCode >= 200 && res.statusCode < 300) {
    if (!json || typeof json['sid'] !== 'string') {
      throw new TwilioApiError('Twilio API call failed: the answer to a message create has no sid', { kind: 'unexpected', status: null, code: null });
    }
    return { sid: json['sid'], status: typeof json['status'] === 'string' ? json['status'] : 'queued' };
  }
  // Both error bodies Twilio uses: legacy (code, message, more_info) and RFC 9457 (type, title, detail, code).
  const status = res.statusCode;
  const rawCode = json?.['code'];
  const code = typeof rawCode === 'number' && rawCode !== 0 ? rawCode : null;
  const message =
    str(json?.['detail']) || str(json?.['message']) || str(json?.['title']) || `HTTP ${status}`;
  const moreInfo = str(json?.['more_info']) || str(json?.['type']) || null;
  const codePart = code !== null ? ` ${code}` : '';
  throw new TwilioApiError(`Twilio API error ${status}${codePart}: ${message}`, { kind: 'api', status, code, moreInfo });
}

function networkError(err: unknown, signal: AbortSignal, timeoutMs: number): TwilioApiError {
  if (err instanceof TwilioApiError) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : null;
  const message = err instanceof Error ? err.message : String(err);
  if (signal.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return new TwilioApiError(`Twilio API did not answer within ${timeoutMs} ms`, { kind: 'timeout', status: null, code: null });
  }
  const blocked = code === 'EOUTBOUNDBLOCKED' || (err as { cause?: { code?: unknown } })?.cause?.code === 'EOUTBOUNDBLOCKED';
  if (blocked) {
    // Permanent: the root resolves to an address we may not reach (retrying will not help).
    return new TwilioApiError('Twilio API base URL refused: it resolves to an address we may not connect to', { kind: 'unexpected', status: null, code: null });
  }
  // Connection refused, reset, closed by the other side, DNS...: the request may or may not have arrived.
  return new TwilioApiError(`Twilio API unreachable: ${code ?? 'ERR_NETWORK'} ${message}`.trim(), { kind: 'network', status: null, code: null });
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function str(x: unknown): string {
  return typeof x === 'string' ? x : '';
}
