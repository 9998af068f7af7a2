import { lookup } from 'node:dns/promises';
import { type IncomingMessage, type RequestOptions, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Webhook } from 'standardwebhooks';
import type { AttemptResult } from './policy.js';

/**
 * One HTTP delivery of a webhook: signed as Standard Webhooks says
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`: HMAC-SHA256 of
 * `id.timestamp.body` with the endpoint's secret), posted to an address
 * checked against the SSRF rules, with a timeout, no redirects followed, and
 * at most RESPONSE_LIMIT bytes of the answer kept. No database here.
 */

export const RESPONSE_LIMIT = 1024;
export const USER_AGENT = 'llm-papers-webhooks/1';

export interface DeliverOptions {
  timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE: loopback, private and link-local addresses allowed (tests, local setups). */
  allowPrivate: boolean;
}

export interface Delivery {
  url: string;
  secret: string;
  messageId: string;
  payload: string;
}

export interface DeliveryReport {
  result: AttemptResult;
  /** The start of the answer's body (at most RESPONSE_LIMIT bytes), when there was one. */
  response: string | null;
}

/** Address ranges a webhook may reach without WEBHOOK_ALLOW_PRIVATE: public unicast only. */
function isPublic(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (address.kind() === 'ipv6') {
    const v6 = address as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return isPublic(v6.toIPv4Address());
  }
  return address.range() === 'unicast';
}

/** Why `address` may not be posted to (null: it may). */
export function refusedAddress(address: string, allowPrivate: boolean): string | null {
  if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
  if (allowPrivate) return null;
  const parsed = ipaddr.parse(address);
  if (isPublic(parsed)) return null;
  const range =
    parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
      ? (parsed as ipaddr.IPv6).toIPv4Address().range()
      : parsed.range();
  return `${address} is a ${range} address (webhooks go to public addresses only; WEBHOOK_ALLOW_PRIVATE=true allows others)`;
}

/** Why a webhook URL is refused on its face (scheme, credentials, an address literal that is not public), or null. */
export function refusedUrl(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a valid absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'only http and https URLs are allowed';
  if (url.username || url.password) return 'the URL must not carry credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) return refusedAddress(host, allowPrivate);
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) {
    return `${host} is a loopback name (WEBHOOK_ALLOW_PRIVATE=true allows it)`;
  }
  return null;
}

/**
 * The one address this delivery connects to: the host resolved once (every
 * address it resolves to must be allowed: a name that mixes public and
 * private addresses is refused), then pinned for the connection.
 */
async function resolveOnce(host: string, allowPrivate: boolean): Promise<{ address: string; family: 4 | 6 }> {
  const bare = host.replace(/^\[|\]$/g, '');
  const found = ipaddr.isValid(bare)
    ? [{ address: bare, family: ipaddr.parse(bare).kind() === 'ipv6' ? 6 : 4 }]
    : await lookup(bare, { all: true, verbatim: true });
  if (found.length === 0) throw new Error(`${host} resolves to no address`);
  for (const a of found) {
    const why = refusedAddress(a.address, allowPrivate);
    if (why) throw new RefusedError(why);
  }
  const first = found[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

class RefusedError extends Error {}

/** A `lookup` for node:http that answers with the pinned address whatever it is asked. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

/** The Standard Webhooks headers of one delivery (signed now). */
export function signedHeaders(delivery: Delivery, now = new Date()): Record<string, string> {
  const signature = new Webhook(delivery.secret).sign(delivery.messageId, now, delivery.payload);
  return {
    'webhook-id': delivery.messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

/** Reads at most RESPONSE_LIMIT bytes of a response, then lets the rest go. */
function readStart(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => resolve(Buffer.concat(chunks).subarray(0, RESPONSE_LIMIT).toString('utf8'));
    res.on('data', (chunk: Buffer) => {
      if (size < RESPONSE_LIMIT) chunks.push(chunk);
      size += chunk.length;
      if (size >= RESPONSE_LIMIT) {
        res.destroy();
        done();
      }
    });
    res.on('end', done);
    res.on('error', done);
    res.on('close', done);
  });
}

export async function deliver(delivery: Delivery, options: DeliverOptions): Promise<DeliveryReport> {
  const why = refusedUrl(delivery.url, options.allowPrivate);
  if (why) return { result: { kind: 'refused', message: why }, response: null };
  const url = new URL(delivery.url);
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let pinned: { address: string; family: 4 | 6 };
  try {
    pinned = await resolveOnce(url.hostname, options.allowPrivate);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      result:
        err instanceof RefusedError ? { kind: 'refused', message } : { kind: 'network', message: `DNS: ${message}` },
      response: null,
    };
  }
  const body = Buffer.from(delivery.payload, 'utf8');
  const requestOptions: RequestOptions = {
    method: 'POST',
    hostname: url.hostname,
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    lookup: pinnedLookup(pinned.address, pinned.family),
    signal: deadline,
    agent: false,
    headers: {
      ...signedHeaders(delivery),
      'content-type': 'application/json',
      'content-length': String(body.length),
      'user-agent': USER_AGENT,
    },
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<DeliveryReport>((resolve) => {
    const req = send(requestOptions, (res) => {
      void readStart(res).then((text) => {
        const status = res.statusCode ?? 0;
        const retryAfter = typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : null;
        resolve({ result: { kind: 'response', status, retryAfter }, response: text });
      });
    });
    req.on('error', (err) => {
      const message = deadline.aborted
        ? `no answer within ${options.timeoutMs / 1000} s`
        : `${(err as NodeJS.ErrnoException).code ?? 'error'}: ${err.message}`;
      resolve({ result: { kind: 'network', message }, response: null });
    });
    req.end(body);
  });
}
