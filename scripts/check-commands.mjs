#!/usr/bin/env node
// Commands registered ⇔ commands contributed.
//
// Reads package.json `contributes` and statically scans the extension sources
// (src/**/*.ts, parsed with the TypeScript compiler; nothing is executed) and
// fails, listing each problem, when
//   - a contributed command (`contributes.commands`) is registered nowhere;
//   - a registered command (`registerCommand` / `registerTextEditorCommand`)
//     is not contributed and is not in INTERNAL below;
//   - package.json refers to one of our commands that is not contributed
//     (menus, keybindings, viewsWelcome and walkthrough `command:` links,
//     walkthrough `onCommand:` completion events, activation events, and the
//     walkthrough markdown files under media/);
//   - the sources run one of our commands (`executeCommand`, a CodeLens/tree
//     item `command:`) that nothing registers;
//   - a registration's command id cannot be worked out statically (say how,
//     or write the id as a literal).
// Command ids may be literals, `const` strings (same file or exported from
// another), properties of a `const` object literal (`COMMANDS.open`), or the
// parameter of a local wrapper (`const command = (id, …) =>
// vscode.commands.registerCommand(id, …)`), whose calls are then read, or the
// first parameter of a wrapper itself named `registerCommand` (any file's
// `x.registerCommand('id', …)` is then a registration like VS Code's own).
//
// Usage: node scripts/check-commands.mjs [--root DIR] [--package FILE] [--json]
// (defaults: this repository, DIR/package.json). Exit 0: consistent; 1: not.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Commands registered on purpose without a `contributes.commands` entry: they
 * take arguments only the code can supply, so they must not appear in the
 * Command Palette. Each needs its reason.
 */
export const INTERNAL = {
  // CodeLens "go to verdict" of a trace document: (uri, character offset).
  'dcd.traces.reveal': 'CodeLens target with (uri, offset) arguments',
  // CodeLens "set verdict to the verifier's": (uri, verdict).
  'dcd.traces.setVerdict': 'CodeLens target with (uri, verdict) arguments',
  // CodeLens "compare with the other draft" of a trace document: (uri).
  'dcd.traces.compareDrafts': 'CodeLens target with a trace-document uri argument',
};

/** Commands VS Code makes for every contributed view (`<view id>.focus`, …). */
const VIEW_COMMAND_SUFFIXES = ['focus', 'open', 'removeView', 'resetViewLocation', 'toggleVisibility'];

const REGISTER = new Set(['registerCommand', 'registerTextEditorCommand']);

function parseArgs(argv) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const o = { root: path.resolve(here, '..'), pkg: undefined, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root') o.root = path.resolve(argv[++i]);
    else if (a === '--package') o.pkg = path.resolve(argv[++i]);
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown argument ${a}`);
  }
  o.pkg ??= path.join(o.root, 'package.json');
  return o;
}

function listTs(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort().map((f) => path.join(dir, f));
}

/** A string literal or a template literal without substitutions; else undefined. */
function literal(node) {
  while (node && (ts.isAsExpression(node) || ts.isParenthesizedExpression(node) || ts.isSatisfiesExpression?.(node))) node = node.expression;
  if (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) return node.text;
  return undefined;
}

/** The object literal of `{…}`, `{…} as const`, `Object.freeze({…})`. */
function objectLiteral(node) {
  while (node && (ts.isAsExpression(node) || ts.isParenthesizedExpression(node) || ts.isSatisfiesExpression?.(node))) node = node.expression;
  if (node && ts.isCallExpression(node) && node.arguments.length === 1 && node.expression.getText() === 'Object.freeze') return objectLiteral(node.arguments[0]);
  return node && ts.isObjectLiteralExpression(node) ? node : undefined;
}

function walk(node, fn) {
  fn(node);
  ts.forEachChild(node, (c) => walk(c, fn));
}

function lineOf(sf, node) {
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
}

/** Scans the sources: registrations, command uses, and what could not be resolved. */
export function scanSources(root, srcDirs = ['src']) {
  const files = srcDirs.flatMap((d) => listTs(path.join(root, d)));
  const parsed = files.map((file) => ({ file, rel: path.relative(root, file), sf: ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true) }));

  // Top-level string constants and object-literal constants, per file and across files.
  const global = new Map(); // name -> Set(values)   (string consts)
  const globalObj = new Map(); // "Name.key" -> Set(values)
  const local = new Map(); // rel -> { strings: Map, objects: Map }
  for (const { rel, sf } of parsed) {
    const strings = new Map();
    const objects = new Map();
    walk(sf, (n) => {
      if (!ts.isVariableDeclaration(n) || !ts.isIdentifier(n.name) || !n.initializer) return;
      const list = n.parent;
      if (!ts.isVariableDeclarationList(list) || !(list.flags & ts.NodeFlags.Const)) return;
      const s = literal(n.initializer);
      if (s !== undefined) strings.set(n.name.text, s);
      const obj = objectLiteral(n.initializer);
      if (obj) {
        for (const p of obj.properties) {
          if (!ts.isPropertyAssignment(p)) continue;
          const key = ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : undefined;
          const v = literal(p.initializer);
          if (key !== undefined && v !== undefined) objects.set(`${n.name.text}.${key}`, v);
        }
      }
    });
    local.set(rel, { strings, objects });
    for (const [k, v] of strings) { if (!global.has(k)) global.set(k, new Set()); global.get(k).add(v); }
    for (const [k, v] of objects) { if (!globalObj.has(k)) globalObj.set(k, new Set()); globalObj.get(k).add(v); }
  }

  const fromGlobal = (map, key) => { const s = map.get(key); return s && s.size === 1 ? [...s][0] : undefined; };
  /** The command id an expression stands for, if it is a constant. */
  function resolveConst(rel, expr) {
    const lit = literal(expr);
    if (lit !== undefined) return lit;
    const { strings, objects } = local.get(rel);
    if (ts.isIdentifier(expr)) return strings.get(expr.text) ?? fromGlobal(global, expr.text);
    if (ts.isPropertyAccessExpression(expr) && ts.isIdentifier(expr.expression)) {
      const key = `${expr.expression.text}.${expr.name.text}`;
      return objects.get(key) ?? fromGlobal(globalObj, key);
    }
    return undefined;
  }

  /** The function that declares `name` as a parameter, around `node`, with the parameter's index. */
  function enclosingParam(node, name) {
    for (let p = node.parent; p; p = p.parent) {
      if (ts.isFunctionLike(p) && p.parameters) {
        const i = p.parameters.findIndex((q) => ts.isIdentifier(q.name) && q.name.text === name);
        if (i >= 0) return { fn: p, index: i };
      }
    }
    return undefined;
  }

  /** The name a function is known by: `function f`, `const f = …`. */
  function functionName(fn) {
    if ((ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn)) && fn.name && ts.isIdentifier(fn.name)) return fn.name.text;
    const p = fn.parent;
    if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
    return undefined;
  }

  const registered = []; // { id, file, line }
  const unresolved = []; // { file, line, text }
  const uses = []; // { id, file, line, how }

  for (const { rel, sf } of parsed) {
    walk(sf, (n) => {
      if (!ts.isCallExpression(n)) return;
      const callee = n.expression;
      const calleeName = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : undefined;
      if (calleeName === 'executeCommand' && n.arguments.length) {
        const id = resolveConst(rel, n.arguments[0]);
        if (id !== undefined) uses.push({ id, file: rel, line: lineOf(sf, n), how: 'executeCommand' });
        return;
      }
      if (!REGISTER.has(calleeName) || !n.arguments.length) return;
      const arg = n.arguments[0];
      const direct = resolveConst(rel, arg);
      if (direct !== undefined) { registered.push({ id: direct, file: rel, line: lineOf(sf, n) }); return; }
      // A wrapper: the id is a parameter of a named local function; read its calls.
      const param = ts.isIdentifier(arg) ? enclosingParam(n, arg.text) : undefined;
      const wrapper = param && functionName(param.fn);
      if (!wrapper) { unresolved.push({ file: rel, line: lineOf(sf, n), text: n.getText(sf).split('\n')[0].slice(0, 100) }); return; }
      // A wrapper named registerCommand (the extension's shared one) is read at its call sites like VS Code's own.
      if (REGISTER.has(wrapper) && param.index === 0) return;
      let calls = 0;
      walk(sf, (c) => {
        if (!ts.isCallExpression(c) || !ts.isIdentifier(c.expression) || c.expression.text !== wrapper) return;
        calls++;
        const a = c.arguments[param.index];
        const id = a && resolveConst(rel, a);
        if (id !== undefined) registered.push({ id, file: rel, line: lineOf(sf, c) });
        else unresolved.push({ file: rel, line: lineOf(sf, c), text: c.getText(sf).split('\n')[0].slice(0, 100) });
      });
      if (!calls) unresolved.push({ file: rel, line: lineOf(sf, n), text: `wrapper ${wrapper}() is never called` });
    });
    // `command: 'x'` in object literals (CodeLens, tree items, status bar items, quick-pick buttons).
    walk(sf, (n) => {
      if (!ts.isPropertyAssignment(n) || !ts.isIdentifier(n.name) || n.name.text !== 'command') return;
      const id = resolveConst(rel, n.initializer);
      if (id !== undefined) uses.push({ id, file: rel, line: lineOf(sf, n), how: 'command property' });
    });
  }
  return { registered, unresolved, uses };
}

/** Every command package.json refers to, with where. */
export function packageReferences(pkg, root) {
  const c = pkg.contributes ?? {};
  const refs = [];
  const add = (id, where) => { if (typeof id === 'string' && id) refs.push({ id, where }); };
  const links = (text, where) => {
    for (const m of String(text ?? '').matchAll(/\(command:([A-Za-z0-9_.-]+)/g)) add(m[1], where);
  };
  for (const [menu, items] of Object.entries(c.menus ?? {})) {
    for (const it of items ?? []) { add(it.command, `menus.${menu}`); add(it.alt, `menus.${menu} (alt)`); }
  }
  for (const k of [c.keybindings ?? []].flat()) add(k.command, `keybindings (${k.key})`);
  for (const v of c.viewsWelcome ?? []) links(v.contents, `viewsWelcome (${v.view})`);
  for (const w of c.walkthroughs ?? []) {
    for (const s of w.steps ?? []) {
      links(s.description, `walkthroughs.${w.id}.${s.id}`);
      for (const e of s.completionEvents ?? []) if (String(e).startsWith('onCommand:')) add(String(e).slice(10), `walkthroughs.${w.id}.${s.id} completionEvents`);
      const md = s.media?.markdown;
      if (md && root && fs.existsSync(path.join(root, md))) links(fs.readFileSync(path.join(root, md), 'utf8'), md);
    }
  }
  for (const e of pkg.activationEvents ?? []) if (String(e).startsWith('onCommand:')) add(String(e).slice(10), 'activationEvents');
  return refs;
}

export function checkCommands({ root, pkgFile }) {
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  const c = pkg.contributes ?? {};
  const contributed = (c.commands ?? []).map((x) => x.command);
  const contributedSet = new Set(contributed);
  const { registered, unresolved, uses } = scanSources(root);
  const registeredIds = new Set(registered.map((r) => r.id));
  // Our namespaces: the first segment of every contributed or registered id.
  const ours = new Set([...contributed, ...registeredIds].map((id) => id.split('.')[0]));
  const isOurs = (id) => ours.has(id.split('.')[0]);
  const views = [...Object.values(c.views ?? {}).flat().map((v) => v.id), ...Object.values(c.viewsContainers ?? {}).flat().map((v) => v.id)];
  const viewCommands = new Set(views.flatMap((v) => VIEW_COMMAND_SUFFIXES.map((s) => `${v}.${s}`)));

  const problems = {
    contributedNotRegistered: contributed.filter((id) => !registeredIds.has(id)),
    registeredNotContributed: registered.filter((r) => !contributedSet.has(r.id) && !(r.id in INTERNAL)),
    internalButContributed: Object.keys(INTERNAL).filter((id) => contributedSet.has(id)),
    internalNotRegistered: Object.keys(INTERNAL).filter((id) => !registeredIds.has(id)),
    duplicateContributions: contributed.filter((id, i) => contributed.indexOf(id) !== i),
    packageReferencesUnknown: packageReferences(pkg, root).filter((r) => isOurs(r.id) && !contributedSet.has(r.id) && !viewCommands.has(r.id)),
    sourceUsesUnregistered: uses.filter((u) => isOurs(u.id) && !registeredIds.has(u.id) && !viewCommands.has(u.id)),
    unresolvedRegistrations: unresolved,
  };
  const ok = Object.values(problems).every((p) => p.length === 0);
  return { ok, contributed: contributed.length, registered: registeredIds.size, internal: Object.keys(INTERNAL).length, problems };
}

function report(r) {
  if (r.ok) {
    console.log(`check-commands: ${r.contributed} contributed, ${r.registered} registered (${r.internal} internal), consistent.`);
    return;
  }
  const p = r.problems;
  const out = ['check-commands: commands registered and contributed disagree.'];
  const section = (title, lines) => { if (lines.length) out.push(`  ${title}:`, ...lines.map((l) => `    ${l}`)); };
  section('contributed in package.json but never registered', p.contributedNotRegistered);
  section('registered but not contributed (contribute it, or add it to INTERNAL in scripts/check-commands.mjs with a reason)', p.registeredNotContributed.map((x) => `${x.id}  (${x.file}:${x.line})`));
  section('in INTERNAL but contributed (remove it from INTERNAL)', p.internalButContributed);
  section('in INTERNAL but never registered (remove it from INTERNAL)', p.internalNotRegistered);
  section('contributed twice', p.duplicateContributions);
  section('referred to in package.json but not contributed', p.packageReferencesUnknown.map((x) => `${x.id}  (${x.where})`));
  section('run by the sources but never registered', p.sourceUsesUnregistered.map((x) => `${x.id}  (${x.file}:${x.line}, ${x.how})`));
  section('registrations whose command id cannot be read statically', p.unresolvedRegistrations.map((x) => `${x.file}:${x.line}  ${x.text}`));
  console.error(out.join('\n'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const r = checkCommands({ root: o.root, pkgFile: o.pkg });
  if (o.json) console.log(JSON.stringify(r, null, 2));
  else report(r);
  process.exit(r.ok ? 0 : 1);
}
