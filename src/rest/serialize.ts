/**
 * REST response bodies (spec §4.8): JSON, CBOR, MessagePack and CSV, whole values or iterables streamed with
 * backpressure (a collection is never held whole in memory, CSV included: its columns come from select() or the
 * declared attributes). Unlike the operations API, strings are sent as themselves (JSON strings), not wrapped.
 */
import type { ServerResponse } from 'node:http';
import { encode as encodeCbor } from 'cbor-x';
import { pack } from 'msgpackr';
import { stringify as csvStringify } from 'csv-stringify/sync';
import { toJson, type Format } from '../http/index.js';

export const CONTENT_TYPES: Record<Format, string> = {
  json: 'application/json; charset=utf-8',
  cbor: 'application/cbor',
  msgpack: 'application/x-msgpack',
  csv: 'text/csv; charset=utf-8',
};

export function isStream(v: unknown): v is Iterable<unknown> {
  return v != null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) &&
    typeof (v as any)[Symbol.iterator] === 'function';
}

function csvCell(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  return v !== null && typeof v === 'object' ? toJson(v) : v;
}

function csvRow(row: unknown, columns: string[]): unknown[] {
  if (Array.isArray(row)) return row.map(csvCell);
  if (row !== null && typeof row === 'object') return columns.map((c) => csvCell((row as any)[c]));
  return [csvCell(row)];
}

function csvColumns(rows: unknown[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) if (r && typeof r === 'object' && !Array.isArray(r)) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

export function encodeValue(value: unknown, format: Format, columns?: string[]): string | Buffer {
  switch (format) {
    case 'json': return toJson(value);
    case 'cbor': return encodeCbor(value);
    case 'msgpack': return pack(value);
    case 'csv': {
      const rows = Array.isArray(value) ? value : [value];
      const cols = columns ?? csvColumns(rows);
      if (typeof value === 'string') return value;
      return csvStringify([cols, ...rows.map((r) => csvRow(r, cols))]);
    }
  }
}

function write(res: ServerResponse, chunk: string | Buffer): Promise<void> | void {
  if (res.destroyed) throw new Error('client went away');
  if (!res.write(chunk)) {
    return new Promise((resolve, reject) => {
      const onDrain = () => { res.off('close', onClose); resolve(); };
      const onClose = () => { res.off('drain', onDrain); reject(new Error('client went away')); };
      res.once('drain', onDrain);
      res.once('close', onClose);
    });
  }
}

/** Stream an iterable; `columns` is required for CSV (header first, then one row per value). */
export async function streamValues(res: ServerResponse, it: Iterable<unknown>, format: Format, columns: string[]): Promise<void> {
  let buf = '';
  const flush = async (force = false) => {
    if (buf.length > 65_536 || (force && buf)) { const p = write(res, buf); buf = ''; if (p) await p; }
  };
  switch (format) {
    case 'json': {
      buf = '[';
      let first = true;
      for (const v of it) {
        buf += (first ? '' : ',') + toJson(v);
        first = false;
        await flush();
      }
      buf += ']';
      await flush(true);
      return;
    }
    case 'csv': {
      buf = csvStringify([columns]);
      for (const v of it) {
        buf += csvStringify([csvRow(v, columns)]);
        await flush();
      }
      await flush(true);
      return;
    }
    case 'cbor': {
      await write(res, Buffer.from([0x9f])); // indefinite-length array
      for (const v of it) { const p = write(res, encodeCbor(v)); if (p) await p; }
      await write(res, Buffer.from([0xff]));
      return;
    }
    case 'msgpack':
      for (const v of it) { const p = write(res, pack(v)); if (p) await p; } // a sequence of values
  }
}
