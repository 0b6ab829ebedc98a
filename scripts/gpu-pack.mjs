#!/usr/bin/env node
// Packs what scripts/gpu-check.sh needs on a GPU machine that has no package registry and maybe no
// Node.js, into .gpu-carry/ (git-ignored; carry it beside the checkout, e.g. as an ignored path):
//
//   .gpu-carry/node_modules.tar.xz   the production dependencies + vitest's closure, pruned to
//                                    linux-x64 binaries and runtime files (no maps, docs, types)
//   .gpu-carry/node.xz               this machine's Node.js binary, xz-compressed (skip: --no-node)
//   .gpu-carry/models/stories260K/   the test model (from ../shared/models, when present)
//
// Run from the repository root after `npm ci`: node scripts/gpu-pack.mjs [--no-node]
// It prints the sizes; the whole folder must stay under the carry limit (64 MiB).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, '.gpu-carry');
const staging = path.join(out, 'staging');
const withNode = !process.argv.includes('--no-node');

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const roots = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), 'vitest'];

/** node_modules dir holding `name` as seen from package dir `from` (nested first, as Node resolves). */
function locate(name, from) {
  for (let dir = from; dir.length >= root.length; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  return undefined;
}

// The dependency closure (dependencies, installed optional and peer dependencies).
const seen = new Set();
const queue = roots.map((name) => ({ name, from: root, optional: false }));
while (queue.length > 0) {
  const { name, from, optional } = queue.shift();
  const dir = locate(name, from);
  if (!dir) {
    if (!optional) throw new Error(`gpu-pack: ${name} (needed by ${path.relative(root, from) || 'the project'}) is not installed; run npm ci`);
    continue;
  }
  if (seen.has(dir)) continue;
  seen.add(dir);
  const p = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const d of Object.keys(p.dependencies ?? {})) queue.push({ name: d, from: dir, optional: false });
  // Installed optional dependencies (platform binaries); peers only when not marked optional (vite's CSS tools are).
  const peers = Object.keys(p.peerDependencies ?? {}).filter((d) => !p.peerDependenciesMeta?.[d]?.optional);
  for (const d of [...Object.keys(p.optionalDependencies ?? {}), ...peers]) queue.push({ name: d, from: dir, optional: true });
}

/** Files the check never reads: source maps, docs, type declarations, other platforms' binaries. */
function keep(rel) {
  const base = path.basename(rel);
  if (/\.(map|md|markdown|d\.ts|d\.mts|d\.cts|ts\.map)$/i.test(base) && base !== 'package.json') return false;
  if (/^(CHANGELOG|HISTORY|AUTHORS)/i.test(base)) return false;
  if (rel.includes('/onnxruntime-node/bin/') && !rel.includes('/napi-v6/linux/x64') && !/\/bin$|\/napi-v6$|\/linux$/.test(rel)) return false;
  if (rel.includes('/koffi/build/koffi/') && !/\/koffi\/build\/koffi(\/linux_x64.*)?$/.test(rel)) return false;
  if (/\/koffi\/(src|doc|vendor)(\/|$)/.test(rel)) return false;
  if (rel === 'node_modules/esbuild/bin/esbuild') return false; // the same binary as @esbuild/linux-x64/bin/esbuild, which the JS API runs
  if (/\/node-seal\/(allows|throws)_wasm_(web|worker|cf_worker)_/.test(rel) || /\/node-seal\/seal_.*cf_worker\.wasm$/.test(rel)) return false;
  return true;
}

rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
for (const dir of seen) {
  const rel = path.relative(root, dir);
  cpSync(dir, path.join(staging, rel), { recursive: true, dereference: true, filter: (src) => keep(path.relative(root, src)) });
}
const du = (p) => execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0];
console.log(`gpu-pack: ${seen.size} packages, ${(Number(du(path.join(staging, 'node_modules'))) / 2 ** 20).toFixed(1)} MiB unpacked`);
execFileSync('tar', ['-C', staging, '-cf', path.join(out, 'node_modules.tar'), 'node_modules']);
rmSync(path.join(out, 'node_modules.tar.xz'), { force: true });
execFileSync('xz', ['-T0', '-6', path.join(out, 'node_modules.tar')]);
rmSync(staging, { recursive: true, force: true });

if (withNode) {
  console.log(`gpu-pack: compressing ${process.execPath} (Node ${process.version}; takes a few minutes)`);
  execFileSync('sh', ['-c', `xz -T0 -6 -c "${process.execPath}" > "${path.join(out, 'node.xz')}"`]);
}
const model = path.resolve(root, '../shared/models/stories260K');
if (existsSync(model)) cpSync(model, path.join(out, 'models', 'stories260K'), { recursive: true });

for (const f of readdirSync(out)) {
  const p = path.join(out, f);
  console.log(`  .gpu-carry/${f}: ${(Number(statSync(p).isDirectory() ? du(p) : statSync(p).size) / 2 ** 20).toFixed(1)} MiB`);
}
console.log(`gpu-pack: .gpu-carry/ is ${(Number(du(out)) / 2 ** 20).toFixed(1)} MiB in all`);
