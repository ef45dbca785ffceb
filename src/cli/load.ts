/**
 * `weft load <file.csv|file.json> --database D --table T [--action insert|update|upsert]`: streams a file into the
 * local server over its unix socket. The CLI parses and converts the file itself (the same conversion rules as the
 * server's CSV jobs), then sends batches of 1,000 records as insert/update/upsert operations (MessagePack bodies,
 * so Dates and big integers keep their types): one transaction per batch, as in a server-side load. The server
 * spends no time parsing, the CLI holds one batch at a time, and it shows bytes read / total on stderr.
 */
import fs from 'node:fs';
import http from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { callLocal } from './local-client.js';
import { columnConverters, rowToRecord, BATCH_ROWS } from '../jobs/index.js';
import type { TableDef } from '../storage/index.js';

export interface LoadOptions {
  file: string;
  database: string;
  table: string;
  action: 'insert' | 'update' | 'upsert';
  socketPath: string;
  /** Where progress goes (stderr by default). */
  progress?: NodeJS.WritableStream;
}

export interface LoadSummary { total: number; written: number; skipped: number; rejected: Array<{ line: number; error: string }>; rejectedCount: number }

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(socketPath: string, body: unknown): Promise<{ status: number; body: any }> {
  return callLocal(socketPath, body, { encoding: 'msgpack', agent });
}

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}

/** A progress line, redrawn in place at most every 100 ms. */
function progressBar(out: NodeJS.WritableStream, total: number) {
  let last = 0;
  const draw = (done: number, rows: number, force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const frac = total ? Math.min(1, done / total) : 1;
    const width = 30;
    const fill = Math.round(frac * width);
    out.write(`\r[${'='.repeat(fill)}${' '.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(done)} / ${mb(total)}  ${rows} rows`);
  };
  return { draw, end: (done: number, rows: number) => { draw(done, rows, true); out.write('\n'); } };
}

/** Split a top-level JSON array into its elements as they stream in (an object file is one record). */
function jsonRecords(): Transform {
  let depth = 0, inString = false, escaped = false, start = -1, buf = '', topIsArray: boolean | undefined;
  let index = 0;
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _enc, cb) {
      const text = buf + chunk.toString('utf8');
      let i = buf.length;
      for (; i < text.length; i++) {
        const c = text[i]!;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') inString = false;
          continue;
        }
        if (c === '"') { inString = true; if (depth === 1 && start < 0 && topIsArray) start = i; continue; }
        if (c === '{' || c === '[') {
          if (depth === 0 && topIsArray === undefined) {
            topIsArray = c === '[';
            if (!topIsArray) start = i;
          } else if (depth === 1 && topIsArray && start < 0) start = i;
          depth++;
        } else if (c === '}' || c === ']') {
          depth--;
          if ((depth === 1 && topIsArray) || (depth === 0 && !topIsArray)) {
            if (start >= 0) { this.push({ text: text.slice(start, i + 1), index: index++ }); start = -1; }
          }
        } else if (c === ',' && depth === 1 && topIsArray && start >= 0) {
          this.push({ text: text.slice(start, i).trim(), index: index++ });
          start = -1;
        } else if (depth === 1 && topIsArray && start < 0 && !/\s|,/.test(c)) start = i; // a scalar element
      }
      // keep only the unfinished element for the next chunk
      if (start >= 0) { buf = text.slice(start); start = 0; } else buf = '';
      cb();
    },
    flush(cb) {
      if (depth !== 0 || inString) return cb(new Error('the JSON file ends in the middle of a value'));
      cb();
    },
  });
}

export async function loadFile(opts: LoadOptions): Promise<LoadSummary> {
  const described = await post(opts.socketPath, { operation: 'describe_table', database: opts.database, table: opts.table });
  if (described.status !== 200) throw new Error(described.body?.error ?? `describe_table failed with status ${described.status}`);
  const def = {
    schemaDefined: Boolean(described.body.schema_defined),
    attributes: (described.body.attributes ?? []) as TableDef['attributes'],
  } as TableDef;
  const total = fs.statSync(opts.file).size;
  const bar = progressBar(opts.progress ?? process.stderr, total);
  let bytes = 0;
  const source = fs.createReadStream(opts.file);
  source.on('data', (c) => { bytes += c.length; });
  const summary: LoadSummary = { total: 0, written: 0, skipped: 0, rejected: [], rejectedCount: 0 };
  const reject = (line: number, error: string) => {
    summary.rejectedCount++;
    if (summary.rejected.length < 100) summary.rejected.push({ line, error });
  };
  let batch: Record<string, unknown>[] = [];
  let first = 0, last = 0;
  const flush = async () => {
    if (!batch.length) return;
    const records = batch;
    batch = [];
    const res = await post(opts.socketPath, { operation: opts.action, database: opts.database, table: opts.table, records });
    if (res.status !== 200) {
      for (let i = 0; i < records.length; i++) summary.rejectedCount++;
      if (summary.rejected.length < 100) summary.rejected.push({ line: first, error: `lines ${first}-${last} not written: ${res.body?.error ?? res.status}` });
      return;
    }
    const written = (res.body.inserted_hashes ?? res.body.update_hashes ?? res.body.upserted_hashes ?? []).length;
    summary.written += written;
    summary.skipped += (res.body.skipped_hashes ?? []).length;
  };
  const add = async (rec: Record<string, unknown>, line: number) => {
    if (!batch.length) first = line;
    last = line;
    batch.push(rec);
    if (batch.length >= BATCH_ROWS) { await flush(); bar.draw(bytes, summary.total); }
  };

  const isJson = /\.json$/i.test(opts.file);
  if (isJson) {
    const parser = source.pipe(jsonRecords());
    source.on('error', (e) => parser.destroy(e));
    for await (const { text, index } of parser as Readable & AsyncIterable<{ text: string; index: number }>) {
      summary.total++;
      let rec: unknown;
      try { rec = JSON.parse(text); } catch (e) { reject(index + 1, `record ${index + 1}: ${(e as Error).message}`); continue; }
      if (!rec || typeof rec !== 'object' || Array.isArray(rec)) { reject(index + 1, `record ${index + 1} is not an object`); continue; }
      await add(rec as Record<string, unknown>, index + 1);
    }
  } else {
    const parser = parse({ bom: true, skip_empty_lines: true, skip_records_with_error: true, info: true });
    parser.on('skip', (err: Error & { lines?: number }) => { summary.total++; reject(err.lines ?? 0, err.message); });
    source.on('error', (e) => parser.destroy(e));
    source.pipe(parser);
    let header: string[] | undefined;
    let converters: ReturnType<typeof columnConverters> = [];
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) { header = record; converters = columnConverters(def, header, { json: true }); continue; }
      summary.total++;
      let rec: Record<string, unknown>;
      try { rec = rowToRecord(header, record, converters); } catch (e) { reject(info.lines, (e as Error).message); continue; }
      await add(rec, info.lines);
    }
  }
  await flush();
  bar.end(bytes, summary.total);
  return summary;
}
