/**
 * The loadEnv plugin (spec §5.2): `.env` files parsed with dotenv's parser into process.env before the
 * application's modules load. Each worker thread has its own copy of process.env, so every thread that loads the
 * application runs this (the main thread first, so workers it starts later inherit the values). Existing variables
 * win unless `override: true`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'dotenv';
import type { Application } from './application.js';
import { matchFiles } from './application.js';

/** A line dotenv's parser skips without a word: not blank, not a comment, not `[export ]NAME=` or `NAME:`. */
const ASSIGNMENT = /^\s*(?:export\s+)?[\w.-]+\s*[=:]/;

/** Files named by the globs; a plain name is taken as is (the folder listing leaves dot-files out). */
export function pluginFiles(app: Application, globs: string[], dotFiles = false): string[] {
  const out: string[] = [];
  for (const g of globs) {
    if (!/[*?[{]/.test(g)) {
      const file = path.resolve(app.path, g);
      if (file.startsWith(app.path + path.sep) && fs.statSync(file, { throwIfNoEntry: false })?.isFile()) out.push(file);
    } else {
      out.push(...matchFiles(app.path, [g], dotFiles));
    }
  }
  return [...new Set(out)];
}

export interface EnvResult { files: string[]; set: string[]; warnings: string[] }

export function loadEnv(app: Application, env: NodeJS.ProcessEnv = process.env): EnvResult {
  const result: EnvResult = { files: [], set: [], warnings: [] };
  const opts = app.config.loadEnv;
  if (!opts) return result;
  for (const file of pluginFiles(app, opts.files, true)) {
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch (err) {
      result.warnings.push(`loadEnv could not read ${file}: ${(err as Error).message}`);
      continue;
    }
    result.files.push(file);
    const rel = path.relative(app.path, file);
    // dotenv joins quoted values over several lines, so a line inside an open quote is not a malformed line
    let open: string | null = null;
    text.split(/\r?\n/).forEach((line, i) => {
      if (open) { if (line.includes(open)) open = null; return; }
      if (!line.trim() || line.trim().startsWith('#')) return;
      if (!ASSIGNMENT.test(line)) { result.warnings.push(`loadEnv ignored line ${i + 1} of ${rel} in ${app.name}: not NAME=value`); return; }
      const q = /=\s*(["'`])/.exec(line);
      if (q && line.indexOf(q[1]!, q.index + q[0].length) < 0) open = q[1]!;
    });
    for (const [k, v] of Object.entries(parse(text))) {
      if (!opts.override && env[k] !== undefined) continue;
      env[k] = v;
      result.set.push(k);
    }
  }
  return result;
}
