/**
 * A small Redis client speaking RESP2 over one TCP connection, shaped as BullMQ's `IRedisClient`
 * so that BullMQ (which ships without a Redis driver since version 6: `ioredis` and `redis` are
 * optional peers) can run on it. It implements only what BullMQ's queue, worker and events
 * classes call: plain commands, Lua scripts (EVALSHA with an EVAL fallback), MULTI/EXEC
 * transactions, blocking BZPOPMIN/XREAD (each BullMQ blocking connection is a duplicate), and a
 * reconnect after a dropped connection.
 *
 * Replies follow ioredis' conventions, which BullMQ expects: bulk strings as UTF-8 strings,
 * integers as numbers, nil as null, HGETALL as an object, XREAD as `[stream, [[id, [f, v, …]]]]`.
 * @module
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { CinderArgumentError } from '../core/errors.js';

/** BullMQ's text for a closed connection (its retry logic matches on it). */
const CLOSED = 'Connection is closed.';

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
export type Reply = string | number | null | Error | Reply[];
/** A command argument: text, number or raw bytes. */
export type Arg = string | number | Buffer;

/** Incremental RESP2 parser: returns [reply, next offset] or undefined when incomplete. */
function parseReply(buf: Buffer, at: number): [Reply, number] | undefined {
  if (at >= buf.length) return undefined;
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new Error(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return undefined;
      return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, pos);
        if (!r) return undefined;
        items.push(r[0]);
        pos = r[1];
      }
      return [items, pos];
    }
    default:
      throw new Error(`Redis protocol error: unexpected reply type ${JSON.stringify(type)}`);
  }
}

function encode(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

interface Pending {
  /** Redis RESOLVE, reply as ioredis gives it. */
  resolve(r: Reply): void;
  /** Redis REJECT, reply as ioredis gives it. */
  reject(e: Error): void;
}

interface Script {
  sha: string;
  lua: string;
  keys: number;
}

function scriptArgs(args: unknown[]): Arg[] {
  const flat = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  return flat.map((a) => (Buffer.isBuffer(a) ? a : a === undefined || a === null ? '' : typeof a === 'number' ? a : String(a)));
}

function pairsToObject(r: Reply): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(r)) for (let i = 0; i + 1 < r.length; i += 2) out[String(r[i])] = String(r[i + 1]);
  return out;
}

/**
 * One connection to Redis, with the method set BullMQ uses. Connects on construction (like
 * ioredis); `status` goes `connecting` → `ready` → `end` (or `reconnecting` after a drop).
 */
export class RespRedisClient extends EventEmitter {
  /** Connection state, as ioredis names it. */
  status = 'connecting';
  /** Never a cluster. */
  readonly isCluster = false;
  /** Options as BullMQ reads them (no key prefix, no retries per request). */
  options: Record<string, unknown>;
  private socket: Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending[] = [];
  private queued: Buffer[] = [];
  private scripts = new Map<string, Script>();
  private ending = false;
  private connectionName?: string;
  private retryTimer: NodeJS.Timeout | null = null;

  /**
   * @param address where the server is (see {@link parseRedisUrl})
   * @param connectTimeoutMs how long one connection attempt may take (default 5000)
   */
  constructor(readonly address: RedisAddress, private readonly connectTimeoutMs = 5000) {
    super();
    this.setMaxListeners(50);
    // errors are also reported to BullMQ's own listeners; this one keeps an unlistened error from
    // ending the process (the client reconnects by itself)
    this.on('error', () => {});
    this.options = { host: address.host, port: address.port, db: address.db, maxRetriesPerRequest: null };
    this.open();
  }

  private open(): void {
    this.status = 'connecting';
    const s = connect({ host: this.address.host, port: this.address.port });
    s.setNoDelay(true);
    s.setTimeout(this.connectTimeoutMs);
    this.socket = s;
    s.on('timeout', () => {
      if (this.status === 'connecting') s.destroy(new Error(`connect ETIMEDOUT ${this.address.host}:${this.address.port}`));
    });
    s.on('connect', () => {
      s.setTimeout(0);
      for (const b of this.queued) s.write(b);
      this.queued = [];
      void this.handshake(s);
    });
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('error', (e) => {
      if (!this.ending) this.emit('error', e);
    });
    s.on('close', () => this.onClose(s));
  }

  private async handshake(s: Socket): Promise<void> {
    try {
      const a = this.address;
      const first: Promise<unknown>[] = [];
      if (a.password !== undefined) first.push(this.send(a.username ? ['AUTH', a.username, a.password] : ['AUTH', a.password], true));
      if (a.db !== 0) first.push(this.send(['SELECT', a.db], true));
      if (this.connectionName) first.push(this.send(['CLIENT', 'SETNAME', this.connectionName], true));
      for (const sc of this.scripts.values()) first.push(this.send(['SCRIPT', 'LOAD', sc.lua], true));
      await Promise.all(first);
      if (this.socket !== s || this.ending) return;
      this.status = 'ready';
      this.emit('connect');
      this.emit('ready');
    } catch (e) {
      this.emit('error', e as Error);
      s.destroy();
    }
  }

  private onData(d: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, d]) : d;
    let at = 0;
    for (;;) {
      const r = parseReply(this.buffer, at);
      if (!r) break;
      at = r[1];
      const p = this.pending.shift();
      if (!p) continue;
      if (r[0] instanceof Error) p.reject(r[0]);
      else p.resolve(r[0]);
    }
    this.buffer = at >= this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(at);
  }

  private onClose(s: Socket): void {
    if (this.socket !== s) return;
    this.socket = null;
    this.buffer = Buffer.alloc(0);
    const failed = this.pending;
    this.pending = [];
    for (const p of failed) p.reject(new Error(CLOSED));
    this.emit('close');
    if (this.ending) {
      this.status = 'end';
      this.emit('end');
      return;
    }
    this.status = 'reconnecting';
    this.emit('reconnecting');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.ending) this.open();
    }, 500);
  }

  /** Sends one command; `early` lets handshake commands pass before `ready`. */
  private send(args: readonly Arg[], early = false): Promise<Reply> {
    if (this.status === 'end' || this.ending) return Promise.reject(new Error(CLOSED));
    return new Promise<Reply>((resolve, reject) => {
      const bytes = encode(args);
      this.pending.push({ resolve, reject });
      const s = this.socket;
      if (s && (s.readyState === 'open') && (early || this.status === 'ready' || this.status === 'connecting')) s.write(bytes);
      else this.queued.push(bytes);
    });
  }

  /** Sends a raw command (`['PING']`) and returns the reply. */
  async call(...args: Arg[]): Promise<Reply> {
    return this.send(args);
  }

  /** Resolves once connected and ready. */
  async connect(): Promise<void> {
    if (this.status === 'ready') return;
    if (this.status === 'end') {
      this.ending = false;
      this.open();
    }
    await new Promise<void>((resolve, reject) => {
      const ok = (): void => {
        this.off('error', bad);
        resolve();
      };
      const bad = (e: Error): void => {
        this.off('ready', ok);
        reject(e);
      };
      this.once('ready', ok);
      this.once('error', bad);
    });
  }

  /** Drops the connection at once (pending commands fail); `reconnect` opens a new one. */
  disconnect(reconnect = false): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.ending = !reconnect;
    const s = this.socket;
    if (s) s.destroy();
    else if (!reconnect) {
      if (this.status !== 'end') {
        this.status = 'end';
        setImmediate(() => {
          this.emit('close');
          this.emit('end');
        });
      }
    } else this.open();
  }

  /** Sends QUIT and closes. */
  async quit(): Promise<string> {
    if (this.status === 'end') return 'OK';
    try {
      if (this.socket && this.status === 'ready') {
        const q = this.send(['QUIT']).catch(() => 'OK');
        this.ending = true;
        await q;
      }
    } finally {
      this.disconnect(false);
    }
    return 'OK';
  }

  /** A new connection to the same server (BullMQ uses one per blocking reader). */
  duplicate(opts?: { connectionName?: string }): RespRedisClient {
    const d = new RespRedisClient(this.address, this.connectTimeoutMs);
    if (opts?.connectionName) d.connectionName = opts.connectionName;
    for (const [name, sc] of this.scripts) d.defineCommand(name, { numberOfKeys: sc.keys, lua: sc.lua });
    return d;
  }

  /** Registers a Lua script callable as `runCommand(name, args)` (and as a method, like ioredis). */
  defineCommand(name: string, def: { numberOfKeys: number; lua: string }): void {
    const sha = createHash('sha1').update(def.lua).digest('hex');
    this.scripts.set(name, { sha, lua: def.lua, keys: def.numberOfKeys });
    (this as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => this.runCommand(name, args);
    if (this.status === 'ready') this.send(['SCRIPT', 'LOAD', def.lua]).catch(() => {});
  }

  /** Runs a script defined with {@link defineCommand}: keys first, then arguments. */
  async runCommand(name: string, args: unknown[]): Promise<unknown> {
    const sc = this.scripts.get(name);
    if (!sc) throw new Error(`unknown Redis script "${name}"`);
    const a = scriptArgs(args);
    try {
      return await this.send(['EVALSHA', sc.sha, sc.keys, ...a]);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('NOSCRIPT')) return this.send(['EVAL', sc.lua, sc.keys, ...a]);
      throw e;
    }
  }

  /** A MULTI/EXEC transaction (also used for BullMQ's pipelines). */
  multi(): RespTransaction {
    return new RespTransaction(this, this.scripts);
  }

  /** Same as {@link multi}. */
  pipeline(): RespTransaction {
    return this.multi();
  }

  /** @internal Sends MULTI, the commands and EXEC; returns ioredis-style `[error, reply]` pairs. */
  async execTransaction(cmds: readonly Arg[][]): Promise<[Error | null, unknown][] | null> {
    if (cmds.length === 0) return [];
    const loads = [...this.scripts.values()].filter((sc) => cmds.some((c) => c[0] === 'EVALSHA' && c[1] === sc.sha));
    await Promise.all(loads.map((sc) => this.send(['SCRIPT', 'LOAD', sc.lua])));
    const replies = [this.send(['MULTI']), ...cmds.map((c) => this.send(c).catch((e: Error) => e)), this.send(['EXEC'])];
    const all = await Promise.all(replies);
    const exec = all[all.length - 1];
    if (exec === null) return null;
    if (!Array.isArray(exec)) throw new Error('Redis EXEC returned no array');
    return exec.map((r) => (r instanceof Error ? [r, null] : [null, r]));
  }

  /** Redis HGETALL, reply as ioredis gives it. */
  async hgetall(key: string): Promise<Record<string, string>> {
    return pairsToObject(await this.send(['HGETALL', key]));
  }
  /** Redis HGET, reply as ioredis gives it. */
  async hget(key: string, field: string): Promise<string | null> {
    return (await this.send(['HGET', key, field])) as string | null;
  }
  /** Redis HMGET, reply as ioredis gives it. */
  async hmget(key: string, ...fields: string[]): Promise<(string | null)[]> {
    return (await this.send(['HMGET', key, ...fields.flat()])) as (string | null)[];
  }
  /** Redis HSET, reply as ioredis gives it. */
  async hset(key: string, data: Record<string, string | number> | string, ...rest: Arg[]): Promise<number> {
    const flat: Arg[] = typeof data === 'object' ? Object.entries(data).flat() : [data, ...rest];
    return (await this.send(['HSET', key, ...flat])) as number;
  }
  /** Redis HDEL, reply as ioredis gives it. */
  async hdel(key: string, ...fields: string[]): Promise<number> {
    return (await this.send(['HDEL', key, ...fields])) as number;
  }
  /** Redis HEXISTS, reply as ioredis gives it. */
  async hexists(key: string, field: string): Promise<number> {
    return (await this.send(['HEXISTS', key, field])) as number;
  }
  /** Redis GET, reply as ioredis gives it. */
  async get(key: string): Promise<string | null> {
    return (await this.send(['GET', key])) as string | null;
  }
  /** Redis SET, reply as ioredis gives it. */
  async set(key: string, value: string | number, options?: { PX?: number; EX?: number }): Promise<string | null> {
    const extra: Arg[] = options?.PX != null ? ['PX', options.PX] : options?.EX != null ? ['EX', options.EX] : [];
    return (await this.send(['SET', key, value, ...extra])) as string | null;
  }
  /** Redis DEL, reply as ioredis gives it. */
  async del(...keys: string[]): Promise<number> {
    const k = keys.flat();
    return k.length ? ((await this.send(['DEL', ...k])) as number) : 0;
  }
  /** Redis ZRANGE, reply as ioredis gives it. */
  async zrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> {
    return (await this.send(['ZRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : [])])) as string[];
  }
  /** Redis ZREVRANGE, reply as ioredis gives it. */
  async zrevrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> {
    return (await this.send(['ZREVRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : [])])) as string[];
  }
  /** Redis ZCARD, reply as ioredis gives it. */
  async zcard(key: string): Promise<number> {
    return (await this.send(['ZCARD', key])) as number;
  }
  /** Redis ZSCORE, reply as ioredis gives it. */
  async zscore(key: string, member: string): Promise<string | null> {
    return (await this.send(['ZSCORE', key, member])) as string | null;
  }
  /** Redis ZADD, reply as ioredis gives it. */
  async zadd(key: string, ...args: Arg[]): Promise<number> {
    return (await this.send(['ZADD', key, ...args])) as number;
  }
  /** Redis ZREM, reply as ioredis gives it. */
  async zrem(key: string, ...members: string[]): Promise<number> {
    return (await this.send(['ZREM', key, ...members])) as number;
  }
  /** Redis LRANGE, reply as ioredis gives it. */
  async lrange(key: string, start: number, end: number): Promise<string[]> {
    return (await this.send(['LRANGE', key, start, end])) as string[];
  }
  /** Redis LLEN, reply as ioredis gives it. */
  async llen(key: string): Promise<number> {
    return (await this.send(['LLEN', key])) as number;
  }
  /** Redis LTRIM, reply as ioredis gives it. */
  async ltrim(key: string, start: number, end: number): Promise<string> {
    return (await this.send(['LTRIM', key, start, end])) as string;
  }
  /** Redis LPOS, reply as ioredis gives it. */
  async lpos(key: string, value: string): Promise<number | null> {
    return (await this.send(['LPOS', key, value])) as number | null;
  }
  /** Redis LPUSH, reply as ioredis gives it. */
  async lpush(key: string, ...values: Arg[]): Promise<number> {
    return (await this.send(['LPUSH', key, ...values])) as number;
  }
  /** Redis RPOP, reply as ioredis gives it. */
  async rpop(key: string): Promise<string | null> {
    return (await this.send(['RPOP', key])) as string | null;
  }
  /** Redis SMEMBERS, reply as ioredis gives it. */
  async smembers(key: string): Promise<string[]> {
    return (await this.send(['SMEMBERS', key])) as string[];
  }
  /** Redis SADD, reply as ioredis gives it. */
  async sadd(key: string, ...members: Arg[]): Promise<number> {
    return (await this.send(['SADD', key, ...members])) as number;
  }
  /** Redis SCARD, reply as ioredis gives it. */
  async scard(key: string): Promise<number> {
    return (await this.send(['SCARD', key])) as number;
  }
  /** Redis INCR, reply as ioredis gives it. */
  async incr(key: string): Promise<number> {
    return (await this.send(['INCR', key])) as number;
  }
  /** Redis INCRBY, reply as ioredis gives it. */
  async incrby(key: string, n: number): Promise<number> {
    return (await this.send(['INCRBY', key, n])) as number;
  }
  /** Redis EXISTS, reply as ioredis gives it. */
  async exists(...keys: string[]): Promise<number> {
    return keys.length ? ((await this.send(['EXISTS', ...keys])) as number) : 0;
  }
  /** Redis KEYS, reply as ioredis gives it. */
  async keys(pattern: string): Promise<string[]> {
    return (await this.send(['KEYS', pattern])) as string[];
  }
  /** Redis XADD, reply as ioredis gives it. */
  async xadd(key: string, id: string, fields: Record<string, string | number>, options?: { MAXLEN?: number; approximate?: boolean }): Promise<string> {
    const trim: Arg[] = options?.MAXLEN != null ? ['MAXLEN', ...(options.approximate === false ? [] : ['~']), options.MAXLEN] : [];
    return (await this.send(['XADD', key, ...trim, id, ...Object.entries(fields).flat()])) as string;
  }
  /** Redis XREAD, reply as ioredis gives it. */
  async xread(streams: { key: string; id: string }[], options?: { BLOCK?: number; COUNT?: number }): Promise<unknown> {
    const opts: Arg[] = [];
    if (options?.COUNT != null) opts.push('COUNT', options.COUNT);
    if (options?.BLOCK != null) opts.push('BLOCK', options.BLOCK);
    try {
      return await this.send(['XREAD', ...opts, 'STREAMS', ...streams.map((s) => s.key), ...streams.map((s) => s.id)]);
    } catch (e) {
      if (this.ending) return null;
      throw e;
    }
  }
  /** Redis XTRIM, reply as ioredis gives it. */
  async xtrim(key: string, strategy: 'MAXLEN', threshold: number, options?: { approximate?: boolean }): Promise<number> {
    return (await this.send(['XTRIM', key, strategy, ...(options?.approximate === false ? [] : ['~']), threshold])) as number;
  }
  /** Redis XLEN, reply as ioredis gives it. */
  async xlen(key: string): Promise<number> {
    return (await this.send(['XLEN', key])) as number;
  }
  /** Redis XREVRANGE, reply as ioredis gives it. */
  async xrevrange(key: string, end: string, start: string, ...rest: Arg[]): Promise<unknown> {
    return this.send(['XREVRANGE', key, end, start, ...rest]);
  }
  /** Redis BZPOPMIN, reply as ioredis gives it. */
  async bzpopmin(key: string, timeout: number): Promise<[string, string, string] | null> {
    try {
      return (await this.send(['BZPOPMIN', key, timeout])) as [string, string, string] | null;
    } catch (e) {
      if (this.ending) return null;
      throw e;
    }
  }
  /** Redis INFO, reply as ioredis gives it. */
  async info(): Promise<string> {
    return (await this.send(['INFO'])) as string;
  }
  /** Redis CLIENT SETNAME, reply as ioredis gives it. */
  async clientSetName(name: string): Promise<unknown> {
    this.connectionName = name;
    return this.send(['CLIENT', 'SETNAME', name]);
  }
  /** Redis CLIENT LIST, reply as ioredis gives it. */
  async clientList(): Promise<string> {
    return (await this.send(['CLIENT', 'LIST'])) as string;
  }
  /** Redis CLIENT INFO, reply as ioredis gives it. */
  async clientInfo(): Promise<string> {
    return (await this.send(['CLIENT', 'INFO'])) as string;
  }
  /** Redis FLUSHALL, reply as ioredis gives it. */
  async flushall(): Promise<unknown> {
    return this.send(['FLUSHALL']);
  }
  /** Redis SCAN, reply as ioredis gives it. */
  async scan(cursor: string | number, options: { MATCH?: string; COUNT?: number }): Promise<[string, string[]]> {
    const extra: Arg[] = [];
    if (options?.MATCH) extra.push('MATCH', options.MATCH);
    if (options?.COUNT) extra.push('COUNT', options.COUNT);
    const r = (await this.send(['SCAN', String(cursor), ...extra])) as [string, string[]];
    return [String(r[0]), r[1]];
  }
  /** SCAN as a stream of key batches (BullMQ's obliterate/clean use it). */
  scanStream(options: { match: string; count?: number }): Readable {
    const self = this;
    async function* batches(): AsyncGenerator<string[]> {
      let cursor = '0';
      do {
        const [next, keys] = await self.scan(cursor, { MATCH: options.match, COUNT: options.count });
        cursor = next;
        if (keys.length) yield keys;
      } while (cursor !== '0');
    }
    return Readable.from(batches(), { objectMode: true });
  }
}

/** A queued MULTI/EXEC transaction with the subset of ioredis' pipeline API that BullMQ uses. */
export class RespTransaction {
  private cmds: Arg[][] = [];
  private shapes: ((r: unknown) => unknown)[] = [];

  /** @internal */
  constructor(private readonly client: RespRedisClient, private readonly scripts: Map<string, Script>) {}

  private add(cmd: Arg[], shape: (r: unknown) => unknown = (r) => r): this {
    this.cmds.push(cmd);
    this.shapes.push(shape);
    return this;
  }
  /** Queues HGETALL. */
  hgetall(key: string): this {
    return this.add(['HGETALL', key], (r) => pairsToObject(r as Reply));
  }
  /** Queues HSET. */
  hset(key: string, data: Record<string, string | number>): this {
    return this.add(['HSET', key, ...Object.entries(data).flat()]);
  }
  /** Queues HSCAN. */
  hscan(key: string, cursor: string | number, options?: { COUNT?: number }): this {
    return this.add(['HSCAN', key, String(cursor), ...(options?.COUNT != null ? ['COUNT', options.COUNT] : [])]);
  }
  /** Queues SMEMBERS. */
  smembers(key: string): this {
    return this.add(['SMEMBERS', key]);
  }
  /** Queues SSCAN. */
  sscan(key: string, cursor: string | number, options?: { COUNT?: number }): this {
    return this.add(['SSCAN', key, String(cursor), ...(options?.COUNT != null ? ['COUNT', options.COUNT] : [])]);
  }
  /** Queues ZRANGE. */
  zrange(key: string, start: number, end: number): this {
    return this.add(['ZRANGE', key, start, end]);
  }
  /** Queues LRANGE. */
  lrange(key: string, start: number, end: number): this {
    return this.add(['LRANGE', key, start, end]);
  }
  /** Queues LLEN. */
  llen(key: string): this {
    return this.add(['LLEN', key]);
  }
  /** Queues DEL. */
  del(...keys: string[]): this {
    return keys.length ? this.add(['DEL', ...keys]) : this;
  }
  /** Queues a script call defined on the client (keys first, then arguments). */
  runCommand(name: string, args: unknown[]): this {
    const sc = this.scripts.get(name);
    if (!sc) throw new Error(`unknown Redis script "${name}" in a transaction`);
    return this.add(['EVALSHA', sc.sha, sc.keys, ...scriptArgs(args)]);
  }
  /** Sends the queued commands as one MULTI/EXEC and returns; ioredis-style `[error, reply]` pairs. */
  async exec(): Promise<[Error | null, unknown][] | null> {
    const r = await this.client.execTransaction(this.cmds);
    if (!r) return null;
    return r.map(([e, v], i) => (e ? [e, null] : [null, this.shapes[i]!(v)]));
  }
}
