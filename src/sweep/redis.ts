/**
 * Redis connections for the BullMQ engine: parsing `--redis` URLs and opening ioredis clients
 * configured as BullMQ requires (`maxRetriesPerRequest: null`).
 * @module
 */
import { Redis } from 'ioredis';
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';

/** Where a Redis server is: parsed from `redis://[:password@]host[:port][/db]`. */
export interface RedisAddress {
  /** Host name or address. */
  host: string;
  /** TCP port (default 6379). */
  port: number;
  /** Database number (default 0). */
  db: number;
  /** Password for AUTH, if any. */
  password?: string;
  /** User for AUTH (Redis 6 ACL), if any. */
  username?: string;
}

/**
 * Parses a Redis URL (`redis://host:port/db`; a bare `host:port` is accepted too).
 * @throws CinderArgumentError naming `param` for anything else
 */
export function parseRedisUrl(text: string, param = '--redis'): RedisAddress {
  const expected = 'a Redis URL redis://[:password@]host[:port][/db]';
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `redis://${text}`);
  } catch {
    throw new CinderArgumentError(param, text, expected);
  }
  if (url.protocol !== 'redis:' || url.hostname === '') throw new CinderArgumentError(param, text, expected);
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(db) || db < 0) throw new CinderArgumentError(param, text, expected);
  const out: RedisAddress = { host: url.hostname.replace(/^\[|\]$/g, ''), port, db };
  if (url.password) out.password = decodeURIComponent(url.password);
  if (url.username) out.username = decodeURIComponent(url.username);
  return out;
}

/** A decoded RESP2 reply (an error reply is an Error inside arrays; a top-level one rejects). */

/** Options of {@link redisConnection}. */
export interface RedisConnectionOptions {
  /** A client that connects once, fails fast within `timeoutMs` and never retries (reachability checks). */
  probe?: boolean;
  /** Connect timeout of a probe (ms, default 4000). */
  timeoutMs?: number;
  /** Fail a command when the connection is down after one reconnection attempt. */
  failFast?: boolean;
}

/** The keys of {@link RedisConnectionOptions}: other keys are refused ("invalid options key"). */
export const REDIS_CONNECTION_OPTION_KEYS = optionKeys<RedisConnectionOptions>()(['probe', 'timeoutMs', 'failFast']);

/**
 * An ioredis client for `address`. BullMQ workers need `maxRetriesPerRequest: null` (blocking
 * commands must not time out); `failFast` makes a command fail when the connection is down after one
 * reconnection attempt (a coordinator's polls, which must notice a lost server); `probe` makes a
 * client that connects once, fails fast within `timeoutMs` and never retries (reachability checks).
 */
export function redisConnection(address: RedisAddress, options: RedisConnectionOptions = {}): Redis {
  checkOptionKeys('options', options, REDIS_CONNECTION_OPTION_KEYS);
  const base = { host: address.host, port: address.port, db: address.db, password: address.password, username: address.username };
  if (options.probe) {
    return new Redis({ ...base, lazyConnect: true, connectTimeout: options.timeoutMs ?? 4000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  }
  return new Redis({ ...base, maxRetriesPerRequest: options.failFast ? 1 : null });
}
