/**
 * The `local` host: this machine. Commands run in `/bin/sh -c` as child
 * processes; files are read and copied with `fs`.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { downloadTree, type DownloadOptions, type DownloadResult, kindOf, type TreeSource } from './safePaths';
import { PRIVATE_DIR_MODE, type ExecOptions, type ExecResult, type HostSession } from './session';

export class LocalSession implements HostSession {
  readonly kind = 'local' as const;
  readonly label = 'local';
  readonly home = os.homedir();
  private isClosed = false;
  private closeListeners: Array<(err?: Error) => void> = [];

  get closed(): boolean { return this.isClosed; }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.isClosed) return Promise.reject(new Error('local session is closed'));
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.stdin.on('error', () => { /* the command may exit without reading its stdin */ });
      let timer: NodeJS.Timeout | undefined;
      if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
      child.on('error', (e) => { if (timer) clearTimeout(timer); reject(e); });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code, signal: signal ?? undefined, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      });
      const input = opts.stdin;
      if (input === undefined) child.stdin.end();
      else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
      else {
        (input as Readable).on('error', (e) => { child.stdin.destroy(e); child.kill('SIGKILL'); });
        (input as Readable).pipe(child.stdin);
      }
    });
  }

  async readFrom(file: string, offset: number, maxBytes: number): Promise<Buffer | undefined> {
    let handle: fs.FileHandle;
    try { handle = await fs.open(file, 'r'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const { size } = await handle.stat();
      const n = Math.max(0, Math.min(maxBytes, size - offset));
      const buf = Buffer.alloc(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await handle.read(buf, got, n - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    } finally {
      await handle.close();
    }
  }

  async stat(file: string): Promise<{ isDirectory: boolean; size: number } | undefined> {
    try {
      const st = await fs.stat(file);
      return { isDirectory: st.isDirectory(), size: st.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async mkdirp(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  }

  async writeFile(file: string, data: string | Buffer): Promise<void> {
    await fs.writeFile(file, data);
  }

  async rename(from: string, to: string): Promise<void> {
    await fs.rename(from, to);
  }

  /** The same rules as an SSH download: a local job's events and files are no more trusted than a host's. */
  async download(remotePath: string, localPath: string, opts?: DownloadOptions): Promise<DownloadResult> {
    return downloadTree(LOCAL_TREE, remotePath, localPath, opts);
  }

  onClose(listener: (err?: Error) => void): void { this.closeListeners.push(listener); }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const l of this.closeListeners.splice(0)) l();
  }
}

const LOCAL_TREE: TreeSource = {
  stat: async (p) => {
    const st = await fs.stat(p);
    return { kind: kindOf(st), size: st.size };
  },
  list: async (dir) => Promise.all((await fs.readdir(dir, { withFileTypes: true })).map(async (e) => ({
    name: e.name, kind: kindOf(e), size: e.isFile() ? (await fs.lstat(path.join(dir, e.name))).size : 0,
  }))),
  copyFile: (from, to) => fs.copyFile(from, to),
};
