#!/usr/bin/env node
// Where a process spent its CPU: self and total (inclusive) time per function of a .cpuprofile
// (`node --cpu-prof`, `bun --cpu-prof`), idle and GC apart, optionally per unit of work.
// Manual tool. See bench/README.md.
//
//   node bench/cpuprofile-top.mjs FILE.cpuprofile [--top 25] [--per 500] [--match src/] [--during NAME]
//
// --per N divides times by N (e.g. the writes of a bench/cluster-propagation.mjs run);
// --match S lists by total time only the functions whose file contains S.
// Bun's profiles (`bun --cpu-prof`) have no idle samples: a sample is taken only while JavaScript
// runs and its time delta includes the idle time before it, so each of their samples counts as one
// sampling interval (1 ms, Bun's default; --interval-us to change) instead of its delta.
// --during NAME counts only the samples between the first and the last one whose stack holds a
// function called NAME (e.g. `#drain`: the time the node followed writes, start-up left out).
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const file = args[0];
const TOP = Number(opt('--top', 25));
const PER = Number(opt('--per', 1));
const MATCH = opt('--match', 'dist/src/');
const DURING = opt('--during', null);
const INTERVAL_US = Number(opt('--interval-us', 1000));

const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
/** a profile without idle samples (Bun's): each sample is one interval of CPU */
const bySamples = !prof.nodes.some((n) => n.callFrame.functionName === '(idle)');
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${url.includes('/dist/') ? url.slice(url.indexOf('/dist/') + 1) : path.basename(url)}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};
let first = 0;
let last = Infinity;
if (DURING !== null) {
  const holds = new Map();
  const has = (id) => {
    if (holds.has(id)) return holds.get(id);
    const n = byId.get(id);
    const p = parent.get(id);
    const v = n.callFrame.functionName === DURING || (p !== undefined && has(p));
    holds.set(id, v);
    return v;
  };
  const hits = prof.samples.flatMap((id, i) => (has(id) ? [i] : []));
  if (hits.length === 0) throw new Error(`no sample in ${DURING}`);
  first = hits[0];
  last = hits[hits.length - 1];
}
// time of each sample: the delta after it
/** where a function's code lives: a gateway folder, an npm package, or the runtime */
const partOf = (n) => {
  const u = n.callFrame.url || '';
  if (u.includes('/node_modules/')) {
    const rest = u.slice(u.lastIndexOf('/node_modules/') + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (u.includes('/dist/src/')) return `gateway ${u.slice(u.indexOf('/dist/src/') + 10).split('/')[0].replace(/\.js$/, '')}`;
  const name = n.callFrame.functionName;
  if (name === '(garbage collector)' || name === '(program)') return name;
  return 'runtime';
};
const partUs = new Map();
const selfUs = new Map();
const totalUs = new Map();
let all = 0;
let idle = 0;
let gc = 0;
for (let i = first; i < Math.min(prof.samples.length, last + 1); i++) {
  const dt = bySamples ? INTERVAL_US : prof.timeDeltas[i + 1] ?? 0;
  const leaf = byId.get(prof.samples[i]);
  all += dt;
  const name = leaf.callFrame.functionName;
  if (name === '(idle)' || name === '(program)' && leaf.callFrame.url === '') {
    if (name === '(idle)') {
      idle += dt;
      continue;
    }
  }
  if (name === '(garbage collector)') gc += dt;
  const part = partOf(leaf);
  partUs.set(part, (partUs.get(part) ?? 0) + dt);
  const l = label(leaf);
  selfUs.set(l, (selfUs.get(l) ?? 0) + dt);
  const seen = new Set();
  for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
    const n = byId.get(id);
    const k = label(n);
    if (seen.has(k)) continue;
    seen.add(k);
    if (n.callFrame.url?.includes(MATCH)) totalUs.set(k, (totalUs.get(k) ?? 0) + dt);
  }
}
const busy = all - idle;
const ms = (us) => (us / 1000 / PER).toFixed(3);
console.log(`${file}${bySamples ? ` (no idle samples: ${INTERVAL_US} µs a sample)` : ''}: ${(all / 1e6).toFixed(2)} s sampled, busy ${(busy / 1e6).toFixed(2)} s, GC ${(gc / 1e6).toFixed(2)} s; ms${PER === 1 ? '' : ` per 1/${PER}`}`);
console.log('self time by part:');
for (const [k, v] of [...partUs].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${ms(v).padStart(8)}  ${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
console.log('self time:');
for (const [k, v] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${ms(v).padStart(8)}  ${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
console.log(`total time, functions of files matching ${MATCH}:`);
for (const [k, v] of [...totalUs].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${ms(v).padStart(8)}  ${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
