// Runs every *.test.js under dist/ (unit tests compiled from src/) and test/ (black-box scenarios) with node:test.
// Node 20's --test has no glob support, hence this file. Extra arguments filter by path substring.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function find(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : find(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = [...find('dist'), ...find('test')].filter((f) => !filters.length || filters.some((x) => f.includes(x)));
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
