// Where the time went in V8 CPU profiles (from `npm run bench -- --profile <dir>`): the top functions by self time
// and by inclusive time, merged over every .cpuprofile in the folder. Usage: node bench/profile-summary.js <dir> [top]
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const top = Number(process.argv[3] ?? 30);
const self = new Map();
const incl = new Map();
let total = 0;

for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
  const prof = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const label = (n) => {
    const cf = n.callFrame;
    const file = cf.url ? cf.url.replace(/^.*\/(node_modules\/|dist\/|node:)/, '$1') : '';
    return `${cf.functionName || '(anon)'} ${file}:${cf.lineNumber + 1}`;
  };
  for (const [id, us] of dt) {
    const n = byId.get(id);
    total += us;
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur));
      if (seen.has(l)) continue;
      seen.add(l);
      incl.set(l, (incl.get(l) ?? 0) + us);
    }
  }
}

const show = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(`total sampled ${(total / 1e6).toFixed(1)} s`);
show('self time', self);
show('inclusive time', incl);
