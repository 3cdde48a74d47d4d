/**
 * Resolving an SSH destination the way OpenSSH would: `user@host:port` specs,
 * `Host` aliases from `~/.ssh/config` (parsed with the `ssh-config` library),
 * `IdentityFile` with `~`/`%` tokens, `ProxyJump` with one or more hops (each
 * hop resolved through the config too), and the keepalive options.
 */
import SSHConfig from 'ssh-config';
import * as path from 'node:path';

export interface SshEndpoint {
  /** The name the user gave (alias or host). */
  alias: string;
  /** The real host name to connect to and to look up in known_hosts. */
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Only the listed identity files, not the agent's other keys (`IdentitiesOnly`). */
  identitiesOnly: boolean;
  /** Keepalive interval in ms (0: off) and the unanswered-keepalive limit. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

export interface SshTarget extends SshEndpoint {
  /** Jump hosts, first hop first (`ProxyJump`). */
  jumps: SshEndpoint[];
}

/** What the caller knows explicitly (settings, CLI flags); these beat the config file. */
export interface SshSpec {
  host: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  /** `ProxyJump` syntax: `[user@]host[:port]` hops separated by commas, or `none`. */
  proxyJump?: string;
}

export interface ResolveOptions {
  /** Text of `~/.ssh/config`; absent: no config. */
  configText?: string;
  homeDir: string;
  localUser: string;
}

export const DEFAULT_KEEPALIVE_MS = 15_000;
export const DEFAULT_KEEPALIVE_COUNT = 3;

/** Splits `[user@]host[:port]` (IPv6 hosts in brackets: `[::1]:22`). */
export function parseHostSpec(spec: string): { user?: string; host: string; port?: number } {
  const s = spec.trim();
  let user: string | undefined;
  let rest = s;
  const at = s.lastIndexOf('@');
  if (at >= 0) { user = s.slice(0, at); rest = s.slice(at + 1); }
  let host = rest;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) { host = bracket[1]; port = bracket[2] ? Number(bracket[2]) : undefined; }
  else {
    const colon = rest.lastIndexOf(':');
    if (colon >= 0 && rest.indexOf(':') === colon) {
      host = rest.slice(0, colon);
      const p = rest.slice(colon + 1);
      if (!/^\d+$/.test(p)) throw new Error(`invalid port in ${JSON.stringify(spec)}`);
      port = Number(p);
    }
  }
  if (!host) throw new Error(`no host in ${JSON.stringify(spec)}`);
  if (port !== undefined && (port < 1 || port > 65535)) throw new Error(`port out of range in ${JSON.stringify(spec)}`);
  if (user === '') throw new Error(`empty user in ${JSON.stringify(spec)}`);
  return { user, host, port };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Expands `~` and the `%` tokens OpenSSH allows in `IdentityFile`. */
export function expandSshPath(p: string, t: { homeDir: string; localUser: string; host: string; user: string; port: number; alias: string }): string {
  let s = p.replace(/^~(?=$|\/)/, t.homeDir);
  s = s.replace(/%([%dhpruCnL])/g, (_m, c: string) => {
    switch (c) {
      case '%': return '%';
      case 'd': return t.homeDir;
      case 'h': return t.host;
      case 'p': return String(t.port);
      case 'r': return t.user;
      case 'u': return t.localUser;
      case 'n': return t.alias;
      default: return `%${c}`;
    }
  });
  return path.isAbsolute(s) ? s : path.join(t.homeDir, '.ssh', s);
}

const MAX_JUMP_DEPTH = 8;

export function resolveSshTarget(spec: SshSpec, opts: ResolveOptions): SshTarget {
  const config = opts.configText ? SSHConfig.parse(opts.configText) : undefined;
  return resolve(spec, config, opts, 0, new Set());
}

function resolve(spec: SshSpec, config: SSHConfig | undefined, opts: ResolveOptions, depth: number, seen: Set<string>): SshTarget {
  if (depth > MAX_JUMP_DEPTH) throw new Error(`ProxyJump chain deeper than ${MAX_JUMP_DEPTH} hops`);
  // matchExec off: a config file never makes us run a shell command.
  const c = config ? config.compute(spec.host, { ignoreCase: true, matchExec: false }) : {};
  const host = first(c.hostname) ?? spec.host;
  const port = spec.port ?? (first(c.port) ? Number(first(c.port)) : 22);
  const user = spec.user ?? first(c.user) ?? opts.localUser;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port for ${spec.host}: ${String(port)}`);
  const tokens = { homeDir: opts.homeDir, localUser: opts.localUser, host, user, port, alias: spec.host };
  const identityFiles = (spec.identityFiles?.length ? spec.identityFiles : list(c.identityfile))
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => expandSshPath(f, tokens));
  const alive = first(c.serveraliveinterval);
  const aliveMax = first(c.serveralivecountmax);
  const endpoint: SshEndpoint = {
    alias: spec.host,
    host,
    port,
    user,
    identityFiles,
    identitiesOnly: (first(c.identitiesonly) ?? 'no').toLowerCase() === 'yes',
    keepaliveIntervalMs: alive !== undefined ? Number(alive) * 1000 : DEFAULT_KEEPALIVE_MS,
    keepaliveCountMax: aliveMax !== undefined ? Number(aliveMax) : DEFAULT_KEEPALIVE_COUNT,
  };
  const key = `${user}@${host}:${port}`;
  if (seen.has(key)) throw new Error(`ProxyJump loop through ${key}`);
  const jumpSpec = spec.proxyJump ?? first(c.proxyjump);
  const jumps: SshEndpoint[] = [];
  if (jumpSpec && jumpSpec.toLowerCase() !== 'none') {
    const inner = new Set(seen).add(key);
    for (const hop of jumpSpec.split(',').map((h) => h.trim()).filter(Boolean)) {
      const p = parseHostSpec(hop.replace(/^ssh:\/\//, ''));
      const resolved = resolve({ host: p.host, port: p.port, user: p.user }, config, opts, depth + 1, inner);
      const { jumps: hopJumps, ...hopEndpoint } = resolved;
      jumps.push(...hopJumps, hopEndpoint);
    }
  }
  return { ...endpoint, jumps };
}
