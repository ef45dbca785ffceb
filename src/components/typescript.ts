/**
 * TypeScript resource files (`resources.ts`, spec §5.2): Node 20 cannot import .ts, so each matched .ts file is
 * transpiled (types stripped, enums and namespaces transformed, with amaro: the transformer Node's own type
 * stripping uses) into a hidden sibling `.<name>.weft.mjs` that is imported instead. The sibling sits in the same
 * folder so the file's relative imports and its `weftdb` import resolve exactly as they would for the .ts file;
 * dot-files are ignored by `weft dev`'s watcher and by the application file globs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let amaro: { transformSync(code: string, opts: Record<string, unknown>): { code: string } } | undefined;

export function compiledPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.weft.mjs`);
}

/** The importable file for a resource file: the file itself, or the transpiled sibling of a .ts/.mts file. */
export function importableResourceFile(file: string): string {
  if (!/\.m?ts$/.test(file) || file.endsWith('.d.ts')) return file;
  const out = compiledPath(file);
  const source = fs.readFileSync(file, 'utf8');
  amaro ??= require('amaro');
  let code: string;
  try {
    code = amaro!.transformSync(source, { mode: 'transform', sourceMap: false, filename: file }).code;
  } catch (e) {
    // fail at import, where the runtime reports the application's resources as broken, not while reading the
    // application (its tables still load)
    code = `throw new SyntaxError(${JSON.stringify(`TypeScript error in ${file}: ${(e as Error).message}`)});\n`;
  }
  // every worker compiles on load: write only on change, atomically, so a concurrent import never sees half a file
  if (!fs.existsSync(out) || fs.readFileSync(out, 'utf8') !== code) {
    const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, out);
  }
  return out;
}
