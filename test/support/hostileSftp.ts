/**
 * A hostile SSH host for download tests: an `ssh2` server on 127.0.0.1 that
 * accepts any login and serves a made-up file tree over SFTP. Unlike a real
 * sshd it can list names no file system allows (`a/b`, `../../x`, NUL bytes),
 * links that loop, endless depth and sizes it never sends.
 *
 *   const host = await startHostileSftp({ dl: dir({ '../../x': file('pwned') }) });
 *   ... connect to 127.0.0.1:host.port trusting host.knownHostsLine, password anything ...
 *   await host.stop();
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Server, utils, type Attributes, type Connection, type SFTPWrapper } from 'ssh2';
import { generateKey } from './sshd';

const { STATUS_CODE } = utils.sftp;

export type VNode =
  | { type: 'dir'; entries: () => Array<[string, VNode]> }
  | { type: 'file'; data: Buffer; size: number }
  | { type: 'link'; target: () => VNode };

/** A directory; `entries` may be a function, so a tree can contain itself (endless depth). */
export function dir(entries: Record<string, VNode> | (() => Record<string, VNode>)): VNode {
  return { type: 'dir', entries: () => Object.entries(typeof entries === 'function' ? entries() : entries) };
}

/** A file; `claimedSize` is what the listing says (default: the real length). */
export function file(data: string | Buffer, claimedSize?: number): VNode {
  const buf = Buffer.from(data);
  return { type: 'file', data: buf, size: claimedSize ?? buf.length };
}

export function link(target: () => VNode): VNode {
  return { type: 'link', target };
}

export interface HostileSftp {
  port: number;
  /** `[127.0.0.1]:port ssh-ed25519 AAAA…`, to trust the server. */
  knownHostsLine: string;
  /** Every path a client asked for, in order. */
  requests: string[];
  stop(): Promise<void>;
}

function attrsOf(node: VNode): Attributes {
  const base = { uid: 0, gid: 0, atime: 0, mtime: 0 };
  if (node.type === 'dir') return { ...base, mode: 0o040755, size: 4096 };
  if (node.type === 'link') return { ...base, mode: 0o120777, size: 8 };
  return { ...base, mode: 0o100644, size: node.size };
}

const follow = (node: VNode): VNode => (node.type === 'link' ? follow(node.target()) : node);

/**
 * The node at `p`: each step takes the longest child name that the rest of
 * the path starts with, so a name holding `/` is served as itself. A path
 * no name matches is tried again normalized (`/job/run/..` is `/job`).
 */
function lookup(root: VNode, p: string, normalized = false): VNode | undefined {
  let rest = p.replace(/^\/+/, '');
  let node = root;
  while (rest !== '' && rest !== '.') {
    const cur = follow(node);
    if (cur.type !== 'dir') return undefined;
    let best: [string, VNode] | undefined;
    for (const e of cur.entries()) {
      if ((rest === e[0] || rest.startsWith(`${e[0]}/`)) && (!best || e[0].length > best[0].length)) best = e;
    }
    if (!best) return normalized ? undefined : lookup(root, path.posix.normalize(`/${p}`), true);
    node = best[1];
    rest = rest.slice(best[0].length).replace(/^\/+/, '');
  }
  return node;
}

function serveSftp(sftp: SFTPWrapper, root: VNode, requests: string[]): void {
  const handles = new Map<number, { node: VNode; listed: boolean }>();
  let next = 1;
  const handleOf = (node: VNode) => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(next);
    handles.set(next++, { node, listed: false });
    return h;
  };
  const byHandle = (h: Buffer) => handles.get(h.length === 4 ? h.readUInt32BE(0) : -1);
  const find = (id: number, p: string, followLink: boolean): VNode | undefined => {
    requests.push(p);
    const node = lookup(root, p);
    if (!node) sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
    return node && (followLink ? follow(node) : node);
  };
  sftp.on('REALPATH', (id, p) => sftp.name(id, [{ filename: p === '.' ? '/' : p, longname: p, attrs: {} as Attributes }]));
  sftp.on('STAT', (id, p) => { const n = find(id, p, true); if (n) sftp.attrs(id, attrsOf(n)); });
  sftp.on('LSTAT', (id, p) => { const n = find(id, p, false); if (n) sftp.attrs(id, attrsOf(n)); });
  /** OPENDIR and OPEN: a handle on a node of the wanted type. */
  const opener = (type: VNode['type']) => (id: number, p: string) => {
    const n = find(id, p, true);
    if (n?.type === type) sftp.handle(id, handleOf(n));
    else if (n) sftp.status(id, STATUS_CODE.FAILURE, `not a ${type}`);
  };
  sftp.on('OPENDIR', opener('dir'));
  sftp.on('READDIR', (id, h) => {
    const entry = byHandle(h);
    if (!entry || entry.node.type !== 'dir') return sftp.status(id, STATUS_CODE.FAILURE);
    if (entry.listed) return sftp.status(id, STATUS_CODE.EOF);
    entry.listed = true;
    const names = [['.', entry.node] as [string, VNode], ['..', entry.node] as [string, VNode], ...entry.node.entries()];
    sftp.name(id, names.map(([name, node]) => ({ filename: name, longname: name, attrs: attrsOf(node) })));
  });
  sftp.on('OPEN', opener('file'));
  sftp.on('FSTAT', (id, h) => {
    const entry = byHandle(h);
    if (entry) sftp.attrs(id, attrsOf(entry.node));
    else sftp.status(id, STATUS_CODE.FAILURE);
  });
  sftp.on('READ', (id, h, offset, length) => {
    const entry = byHandle(h);
    if (!entry || entry.node.type !== 'file') return sftp.status(id, STATUS_CODE.FAILURE);
    const chunk = entry.node.data.subarray(offset, offset + length);
    if (chunk.length === 0) sftp.status(id, STATUS_CODE.EOF);
    else sftp.data(id, chunk);
  });
  sftp.on('CLOSE', (id, h) => {
    if (h.length === 4) handles.delete(h.readUInt32BE(0));
    sftp.status(id, STATUS_CODE.OK);
  });
  for (const op of ['WRITE', 'SETSTAT', 'FSETSTAT', 'REMOVE', 'RMDIR', 'MKDIR', 'RENAME', 'READLINK', 'SYMLINK'] as const) {
    sftp.on(op, (id: number) => sftp.status(id, STATUS_CODE.PERMISSION_DENIED));
  }
}

/** Starts the server; `tree` is the root directory's entries. */
export async function startHostileSftp(tree: Record<string, VNode>): Promise<HostileSftp> {
  // ssh-keygen, not ssh2's generateKeyPairSync: about one ssh2 ed25519 key in 150 cannot be parsed back.
  const keyDir = mkdtempSync(path.join(os.tmpdir(), 'dcd-hostile-key-'));
  const keyFile = path.join(keyDir, 'host_key');
  const publicKey = generateKey(keyFile);
  const root = dir(tree);
  const requests: string[] = [];
  const clients = new Set<Connection>();
  const server = new Server({ hostKeys: [readFileSync(keyFile)] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => { /* the test client hung up */ });
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () => client.on('session', (accept) => {
      accept().on('sftp', (acceptSftp) => serveSftp(acceptSftp(), root, requests));
    }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    knownHostsLine: `[127.0.0.1]:${port} ${publicKey}`,
    requests,
    async stop() {
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
