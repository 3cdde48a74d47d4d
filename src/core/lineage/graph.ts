/**
 * The lineage graph (docs/FORMATS.md §6): corpus → export → training run →
 * model folder → evaluation, found on this machine by scanning folders for
 * the artifacts' own records, each node with its content hash, and stale
 * when a parent changed since the node was made (directly, or upstream).
 */
import { createHash } from 'node:crypto';
import { forEachJsonlRow } from '../io/jsonlFile';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { HashCache, LINEAGE_FILE } from './hash';
import { diffLines, lineHashesOfFile, parseLineageRecord, type LineageKind, type ParentRef } from './record';

export interface LineageChange {
  /** The node whose recorded parent hash no longer matches. */
  node: string;
  kind: LineageKind;
  parent: string;
  parentKind: LineageKind;
  recorded: string;
  /** null: the parent is gone. */
  current: string | null;
  /** Corpora recorded with line hashes: the lines edited, added or removed since (with the sample id now, when there is one). */
  samples?: Array<{ line: number; change: 'edited' | 'added' | 'removed'; id?: string | null }>;
  message: string;
}

export interface ParentLink {
  id: string;
  kind: LineageKind;
  /** The hash the child recorded (null for the run → model edge, which is the same moment). */
  recorded: string | null;
  /** How the parent was found: at the recorded path, elsewhere by hash, by file name, or by folder. */
  by: 'path' | 'hash' | 'job' | 'name' | 'folder' | 'missing';
  changed: boolean;
}

export interface LineageNode {
  /** Absolute path of the thing itself (file or folder); a missing parent's recorded path. */
  id: string;
  kind: LineageKind;
  label: string;
  /** Content hash now (null when missing). */
  sha256: string | null;
  missing: boolean;
  parents: ParentLink[];
  children: string[];
  stale: boolean;
  /** What changed, at this node's parents or upstream. */
  changes: LineageChange[];
  /** Problems reading this node's records (it is still shown). */
  problems: string[];
  details: Record<string, unknown>;
}

export interface LineageGraph {
  nodes: Map<string, LineageNode>;
  roots: string[];
}

export interface ScanOptions {
  /** Folders to scan (recursively, at most `maxDepth` levels). */
  roots: string[];
  /** Extra artifacts to load even outside the roots (e.g. the target). */
  include?: string[];
  cache?: HashCache;
  maxDepth?: number;
  /** Jobs of the local job store: a run folder of job `id` (fetched into a folder named by the id, or `jobDir/run`) trained on the export `data`. */
  jobs?: JobHint[];
}

export interface JobHint { id: string; data?: string; jobDir?: string }

const SKIP_DIRS = new Set(['node_modules', '.git', '.venv', '__pycache__', 'checkpoints', '.vscode-test']);

interface Pending { node: LineageNode; refs: Array<ParentRef & { byName?: boolean }> }

const short = (h: string | null) => (h ? h.slice(0, 12) : 'none');

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await fs.readFile(file, 'utf8'));
}

async function isFile(p: string): Promise<boolean> {
  try { return (await fs.stat(p)).isFile(); } catch { return false; }
}

async function isDir(p: string): Promise<boolean> {
  try { return (await fs.stat(p)).isDirectory(); } catch { return false; }
}

function newNode(id: string, kind: LineageKind, sha256: string | null, details: Record<string, unknown> = {}): LineageNode {
  return { id, kind, label: path.basename(id), sha256, missing: sha256 === null, parents: [], children: [], stale: false, changes: [], problems: [], details };
}

/**
 * The model folder of a run folder: `final/` as the trainer writes it, or the one
 * subfolder holding a dcd_training.json (a model fetched from a host under its artifact name).
 */
async function modelDirOf(runDir: string): Promise<string | undefined> {
  if (await isFile(path.join(runDir, 'final', 'dcd_training.json'))) return path.join(runDir, 'final');
  let entries;
  try { entries = await fs.readdir(runDir, { withFileTypes: true }); } catch { return undefined; }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isDirectory() && await isFile(path.join(runDir, e.name, 'dcd_training.json'))) return path.join(runDir, e.name);
  }
  return undefined;
}

/** The artifact a path names: the node id it resolves to, or null. */
export async function artifactAt(p: string): Promise<{ kind: LineageKind; id: string } | null> {
  const abs = path.resolve(p);
  if (await isDir(abs)) {
    if (await isFile(path.join(abs, 'manifest.json'))) {
      const m = await readJson(path.join(abs, 'manifest.json')).catch(() => null) as { format?: string } | null;
      if (m?.format === 'dcd-export') return { kind: 'export', id: abs };
    }
    if (await isFile(path.join(abs, 'dcd_training.json'))) return { kind: 'model', id: abs };
    if (await modelDirOf(abs)) return { kind: 'run', id: abs };
    if (await isFile(path.join(abs, LINEAGE_FILE))) {
      const r = await readJson(path.join(abs, LINEAGE_FILE)).catch(() => null) as { kind?: string } | null;
      if (r?.kind === 'eval') return { kind: 'eval', id: abs };
    }
    return null;
  }
  if (!(await isFile(abs))) return null;
  const base = path.basename(abs);
  if (base === 'manifest.json' || base === 'dcd_training.json' || base === LINEAGE_FILE) return artifactAt(path.dirname(abs));
  if (/^(results|samples)_.*\.jsonl?$/.test(base)) {
    // lm-eval writes OUT/<model name>/results_*.json: the sidecar sits in the folder or up to two above.
    for (let d = path.dirname(abs), i = 0; i < 3; i++, d = path.dirname(d)) {
      const hit = await artifactAt(d);
      if (hit?.kind === 'eval') return hit;
    }
    return null;
  }
  if (/\.jsonl$/.test(base)) return { kind: 'corpus', id: abs };
  return null;
}

class Scanner {
  readonly nodes = new Map<string, LineageNode>();
  private pending: Pending[] = [];
  private loaded = new Set<string>();

  constructor(readonly cache: HashCache, readonly roots: string[], readonly jobs: JobHint[]) {}

  async scan(dir: string, depth: number): Promise<void> {
    const hit = await artifactAt(dir);
    if (hit && hit.kind !== 'corpus') {
      await this.load(hit.id, hit.kind);
      if (hit.kind !== 'run') return;
    }
    if (depth <= 0) return;
    let entries;
    try { entries = await fs.readdir(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (SKIP_DIRS.has(e.name) || e.name.startsWith('.')) continue;
        await this.scan(p, depth - 1);
      } else if (e.isFile() && e.name.endsWith('.dcd.jsonl')) {
        await this.load(p, 'corpus');
      }
    }
  }

  async load(id: string, kind: LineageKind): Promise<LineageNode | undefined> {
    const key = `${kind}\0${id}`;
    if (this.loaded.has(key)) return this.nodes.get(id);
    this.loaded.add(key);
    try {
      switch (kind) {
        case 'corpus': return this.add(newNode(id, 'corpus', await this.cache.fileHash(id)), []);
        case 'export': return await this.loadExport(id);
        case 'run': {
          const model = await modelDirOf(id);
          if (model) await this.load(model, 'model');
          return this.nodes.get(id);
        }
        case 'model': return await this.loadModel(id);
        case 'eval': return await this.loadEval(id);
      }
    } catch (err) {
      const n = this.nodes.get(id) ?? newNode(id, kind, null);
      n.problems.push((err as Error).message);
      this.nodes.set(id, n);
      return n;
    }
  }

  private add(node: LineageNode, refs: Pending['refs']): LineageNode {
    this.nodes.set(node.id, node);
    this.pending.push({ node, refs });
    return node;
  }

  private async loadExport(dir: string): Promise<LineageNode> {
    const file = path.join(dir, 'manifest.json');
    const m = await readJson(file) as {
      corpus?: { path?: string; sha256?: string }; files?: Record<string, string>; lineage?: unknown;
      samples?: number; policy?: string; max_length?: number; plan?: { preset?: string }; sample_ids?: unknown[];
    };
    const node = newNode(dir, 'export', await this.cache.fileHash(file), {
      samples: m.samples, policy: m.policy, max_length: m.max_length, preset: m.plan?.preset,
      fingerprint: exportFingerprint(m.files), corpus: m.corpus?.path,
    });
    let refs: Pending['refs'] = [];
    if (m.lineage !== undefined) {
      try { refs = parseLineageRecord(m.lineage, `${file}: lineage`).parents; } catch (err) { node.problems.push((err as Error).message); }
    }
    if (!refs.length && m.corpus?.sha256 && m.corpus.path) {
      // Exports from before the lineage member: the corpus by file name and hash.
      refs = [{ kind: 'corpus', path: m.corpus.path, sha256: m.corpus.sha256, byName: true }];
    }
    return this.add(node, refs);
  }

  private async loadModel(dir: string): Promise<LineageNode> {
    const file = path.join(dir, 'dcd_training.json');
    const info = await readJson(file) as {
      config?: { export?: string; model?: string; preset?: string; epochs?: number; max_steps?: number | null; lr?: number; grad_accum?: number; total_steps?: number };
      final_loss?: unknown; precision?: string; loss_norm?: string; lineage?: unknown; saved_dtype?: string;
    };
    const runDir = path.dirname(dir);
    const lin = info.lineage as Record<string, unknown> | undefined;
    const run = newNode(runDir, 'run', await this.cache.fileHash(file), {
      model: info.config?.model, preset: info.config?.preset, total_steps: info.config?.total_steps,
      precision: info.precision, loss_norm: info.loss_norm, final_loss: info.final_loss,
      recipe: lin?.recipe, code_version: lin?.code_version,
      events: await isFile(path.join(runDir, 'events.jsonl')) ? path.join(runDir, 'events.jsonl') : undefined,
    });
    let refs: Pending['refs'] = [];
    if (lin !== undefined) {
      try { refs = parseLineageRecord(lin, `${file}: lineage`).parents; } catch (err) { run.problems.push((err as Error).message); }
    }
    if (!refs.length && info.config?.export) {
      // Runs from before the lineage member: the export by the trainer's fingerprint.
      refs = [{ kind: 'export', path: '(export with fingerprint ' + info.config.export.slice(0, 12) + '…)', sha256: info.config.export, fingerprint: info.config.export, byName: true }];
    }
    this.add(run, refs);
    const model = newNode(dir, 'model', await this.cache.folderHash(dir), { saved_dtype: info.saved_dtype });
    model.parents.push({ id: runDir, kind: 'run', recorded: null, by: 'folder', changed: false });
    return this.add(model, []);
  }

  private async loadEval(dir: string): Promise<LineageNode> {
    const file = path.join(dir, LINEAGE_FILE);
    const rec = parseLineageRecord(await readJson(file), file);
    const node = newNode(dir, 'eval', await this.cache.folderHash(dir), {
      tasks: rec.tasks, limit: rec.limit, job: rec.job, host: rec.host, time: rec.time,
      results: Object.keys((rec.files as Record<string, string> | undefined) ?? {}).filter((f) => /(^|\/)results_/.test(f)).map((f) => path.join(dir, f)),
    });
    const recorded = (rec.files as Record<string, string> | undefined) ?? {};
    for (const [rel, h] of Object.entries(recorded)) {
      const now = await this.cache.fileHash(path.join(dir, rel)).catch(() => null);
      if (now !== h) node.problems.push(`${rel}: ${now ? `sha256 ${short(h)} → ${short(now)} since the results were fetched` : 'missing'}`);
    }
    return this.add(node, rec.parents);
  }

  /** Loads the parents recorded at paths that exist here, until nothing new turns up. */
  async loadRecordedParents(): Promise<void> {
    for (let i = 0; i < this.pending.length; i++) {
      const { node, refs } = this.pending[i];
      const wanted = refs.filter((r) => !r.byName).map((r) => ({ kind: r.kind, path: r.path, sha256: r.sha256 }));
      const hint = node.kind === 'run' ? this.jobExport(node.id) : undefined;
      if (hint) wanted.unshift({ kind: 'export', path: hint, sha256: '' });
      for (const ref of wanted) {
        const abs = path.resolve(ref.path);
        if (this.nodes.has(abs)) continue;
        // A copy with the same content already found (e.g. under the roots) stands for it.
        if (ref.sha256 && [...this.nodes.values()].some((n) => n.kind === ref.kind && n.sha256 === ref.sha256)) continue;
        const hit = await artifactAt(abs);
        if (hit && hit.kind === ref.kind) await this.load(hit.id, hit.kind);
      }
    }
  }

  /** The local export a job was submitted with, for a run folder of that job (fetched or local). */
  private jobExport(runDir: string): string | undefined {
    const parts = runDir.split(path.sep);
    return this.jobs.find((j) => j.data && (parts.includes(j.id) || (j.jobDir && path.resolve(j.jobDir, 'run') === runDir)))?.data;
  }

  private underRoots(id: string): boolean {
    return this.roots.some((r) => id === r || id.startsWith(r.endsWith(path.sep) ? r : r + path.sep));
  }

  async link(): Promise<void> {
    const byKind = (k: LineageKind) => [...this.nodes.values()].filter((n) => n.kind === k && !n.missing);
    for (const { node, refs } of this.pending) {
      for (const ref of refs) {
        const abs = path.resolve(ref.path);
        // Runs from before the lineage member know their export only by the trainer's fingerprint of the arrays.
        const same = (n: LineageNode) => (ref.byName && ref.fingerprint && n.kind === 'export' ? n.details.fingerprint === ref.fingerprint : n.sha256 === ref.sha256);
        const usable = (n: LineageNode | undefined) => (n && n.kind === ref.kind && !n.missing ? n : undefined);
        let parent: LineageNode | undefined;
        let by: ParentLink['by'] = 'path';
        // 1. The local export this run's job was submitted with (a host's copy has another path).
        const hint = node.kind === 'run' && ref.kind === 'export' ? this.jobExport(node.id) : undefined;
        if (hint) { parent = usable(this.nodes.get(path.resolve(hint))); by = 'job'; }
        // 2. Content with the recorded hash: at the recorded path, else under the roots, else anywhere.
        if (!parent) {
          const matches = byKind(ref.kind).filter(same);
          parent = matches.find((n) => !ref.byName && n.id === abs) ?? matches.find((n) => this.underRoots(n.id)) ?? matches[0];
          by = parent && !ref.byName && parent.id === abs ? 'path' : 'hash';
        }
        // 3. Whatever is at the recorded path now (changed since).
        if (!parent && !ref.byName) { parent = usable(this.nodes.get(abs)); by = 'path'; }
        // 4. Exports from before the lineage member: the corpus by file name.
        if (!parent && ref.byName && ref.kind === 'corpus') {
          parent = byKind('corpus').find((n) => path.basename(n.id) === path.basename(ref.path));
          by = 'name';
        }
        if (!parent) {
          by = 'missing';
          const id = ref.byName ? `${ref.kind}:${ref.sha256}` : abs;
          parent = this.nodes.get(id);
          if (!parent) {
            parent = newNode(id, ref.kind, null, { recorded_path: ref.path });
            parent.label = ref.byName ? ref.path : path.basename(ref.path);
            this.nodes.set(id, parent);
          }
        }
        const changed = by === 'missing' ? false : !same(parent);
        node.parents.push({ id: parent.id, kind: ref.kind, recorded: ref.sha256, by, changed });
        if (changed) {
          const what = ref.line_sha256 && parent.kind === 'corpus' ? await corpusEdits(parent.id, ref.line_sha256) : undefined;
          node.changes.push({
            node: node.id, kind: node.kind, parent: parent.id, parentKind: parent.kind, recorded: ref.sha256, current: parent.sha256,
            ...(what ? { samples: what.samples } : {}),
            message: `${parent.kind} ${parent.label} changed since this ${node.kind} was made: sha256 ${short(ref.sha256)} → ${short(parent.sha256)}${what ? `; ${what.text}` : ''}`,
          });
        } else if (by === 'missing') {
          node.problems.push(`${ref.kind} ${ref.path} not found here (recorded sha256 ${short(ref.sha256)})`);
        }
      }
    }
    for (const n of this.nodes.values()) for (const p of n.parents) this.nodes.get(p.id)?.children.push(n.id);
    for (const n of this.nodes.values()) n.children = [...new Set(n.children)].sort();
    // Staleness flows down: a node is stale when a parent changed, or a parent is stale.
    const done = new Set<string>();
    const visit = (n: LineageNode, trail: Set<string>): void => {
      if (done.has(n.id) || trail.has(n.id)) return;
      trail.add(n.id);
      for (const p of n.parents) {
        const parent = this.nodes.get(p.id);
        if (!parent) continue;
        visit(parent, trail);
        for (const c of parent.changes) if (!n.changes.some((x) => x.node === c.node && x.parent === c.parent)) n.changes.push(c);
      }
      n.stale = n.changes.length > 0;
      done.add(n.id);
    };
    for (const n of this.nodes.values()) visit(n, new Set());
  }
}

/** Which corpus lines changed since `recorded` (lineHashes of the corpus then): a short text and the list. */
async function corpusEdits(file: string, recorded: string[]): Promise<{ text: string; samples: NonNullable<LineageChange['samples']> } | undefined> {
  let now: string[];
  try { now = await lineHashesOfFile(file); } catch { return undefined; }
  const d = diffLines(recorded, now);
  // The ids of the changed lines, in a second streamed pass (only when something changed).
  const wanted = new Set([...d.edited, ...d.added]);
  const ids = new Map<number, string | null>();
  if (wanted.size) {
    await forEachJsonlRow(file, (row) => {
      if (!wanted.has(row.line)) return;
      const v = row.kind === 'value' ? (row.value as { id?: unknown } | null)?.id : undefined;
      ids.set(row.line, typeof v === 'string' ? v : null);
    }).catch(() => undefined);
  }
  const idAt = (line: number): string | null => ids.get(line) ?? null;
  const samples: NonNullable<LineageChange['samples']> = [
    ...d.edited.map((line) => ({ line, change: 'edited' as const, id: idAt(line) })),
    ...d.added.map((line) => ({ line, change: 'added' as const, id: idAt(line) })),
    ...d.removed.map((line) => ({ line, change: 'removed' as const })),
  ];
  if (!samples.length) return undefined;
  const list = (what: string, ls: number[]) => (ls.length ? [`${ls.length} ${what} (line${ls.length > 1 ? 's' : ''} ${ls.slice(0, 5).join(', ')}${ls.length > 5 ? ', …' : ''})`] : []);
  const text = [...list(d.edited.length === 1 ? 'sample edited' : 'samples edited', d.edited), ...list('added', d.added), ...list('removed', d.removed)].join(', ');
  const one = samples.length === 1 && samples[0].id ? ` — id ${samples[0].id}` : '';
  return { text: text + one, samples };
}

/** The trainer's export fingerprint: sha256 of the three array files' hashes (python-backend/dcd_backend/export.py). */
export function exportFingerprint(files: Record<string, string> | undefined): string | undefined {
  if (!files || !files['ids.npy'] || !files['labels.npy'] || !files['offsets.npy']) return undefined;
  return createHash('sha256').update(files['ids.npy'] + files['labels.npy'] + files['offsets.npy']).digest('hex');
}

/** Scans the roots (and `include`) and links what it finds into one graph. */
export async function scanLineage(opts: ScanOptions): Promise<LineageGraph> {
  const roots = opts.roots.map((r) => path.resolve(r));
  const s = new Scanner(opts.cache ?? new HashCache(), roots, opts.jobs ?? []);
  for (const r of roots) await s.scan(r, opts.maxDepth ?? 8);
  for (const p of opts.include ?? []) {
    const hit = await artifactAt(p);
    if (hit) await s.load(hit.id, hit.kind);
  }
  await s.loadRecordedParents();
  await s.link();
  return { nodes: s.nodes, roots };
}

function walk(g: LineageGraph, id: string, next: (n: LineageNode) => string[]): LineageNode[] {
  const out: LineageNode[] = [];
  const seen = new Set([id]);
  let frontier = [id];
  while (frontier.length) {
    const nextFrontier: string[] = [];
    for (const f of frontier) {
      const n = g.nodes.get(f);
      if (!n) continue;
      for (const m of next(n)) {
        if (seen.has(m)) continue;
        seen.add(m);
        const node = g.nodes.get(m);
        if (node) { out.push(node); nextFrontier.push(m); }
      }
    }
    frontier = nextFrontier;
  }
  return out;
}

/** Ancestors, nearest first. */
export function ancestorsOf(g: LineageGraph, id: string): LineageNode[] {
  return walk(g, id, (n) => n.parents.map((p) => p.id));
}

/** Descendants, nearest first. */
export function descendantsOf(g: LineageGraph, id: string): LineageNode[] {
  return walk(g, id, (n) => n.children);
}

export interface LineageReport {
  format: 'dcd-lineage-report';
  version: 1;
  target: JsonNode;
  ancestors: JsonNode[];
  descendants: JsonNode[];
  edges: Array<{ parent: string; child: string; recorded: string | null; by: ParentLink['by']; changed: boolean }>;
  roots: string[];
}

export type JsonNode = Omit<LineageNode, 'children' | 'parents'> & { parents: string[]; children: string[]; reasons: string[] };

export function jsonNode(n: LineageNode): JsonNode {
  return {
    id: n.id, kind: n.kind, label: n.label, sha256: n.sha256, missing: n.missing, stale: n.stale,
    reasons: n.changes.map((c) => (c.node === n.id ? c.message : `upstream: ${c.message.replace(`this ${c.kind}`, `the ${c.kind} ${path.basename(c.node)}`)}`)),
    changes: n.changes, problems: n.problems, details: n.details,
    parents: n.parents.map((p) => p.id), children: n.children,
  };
}

/** What `dcd lineage PATH --json` prints: the target, its ancestors and descendants found locally. */
export async function lineageOf(target: string, opts: Omit<ScanOptions, 'include'>): Promise<LineageReport> {
  const hit = await artifactAt(target);
  if (!hit) throw new Error(`${target}: not a corpus (*.jsonl), export (manifest.json), run folder, model folder (dcd_training.json) or results with a ${LINEAGE_FILE}`);
  const g = await scanLineage({ ...opts, include: [hit.id] });
  let id = hit.id;
  if (hit.kind === 'run' && !g.nodes.has(id)) id = (await modelDirOf(hit.id)) ?? id;
  const node = g.nodes.get(id);
  if (!node) throw new Error(`${target}: could not be read`);
  const anc = ancestorsOf(g, id);
  const desc = descendantsOf(g, id);
  const ids = new Set([id, ...anc.map((n) => n.id), ...desc.map((n) => n.id)]);
  const edges = [...ids].flatMap((c) => (g.nodes.get(c)?.parents ?? []).filter((p) => ids.has(p.id)).map((p) => ({ parent: p.id, child: c, recorded: p.recorded, by: p.by, changed: p.changed })));
  return { format: 'dcd-lineage-report', version: 1, target: jsonNode(node), ancestors: anc.map(jsonNode), descendants: desc.map(jsonNode), edges, roots: g.roots };
}
