/**
 * The map of exported resources of one serving thread: URL path -> table export or custom resource class
 * (spec §4.1). Matching is case-sensitive and picks the longest registered prefix by path segment; two different
 * resources on one path make that path answer 500 `Conflicting paths for <path>`.
 */
import type { GraphqlResource } from './graphql.js';
import { isBaseTableClass, tableRefOf } from './tables.js';

export interface TableResource {
  kind: 'table';
  /** Export name = the URL path without the leading slash ('' = the application root). */
  path: string;
  database: string;
  table: string;
  typeName: string;
  /** @splitSegments: path segments after the table name form a multi-part id (spec §4.2). */
  splitSegments?: boolean;
  /** `rest: {strictIndexing: true}`: refuse searches an index cannot drive, with Harper's messages (spec §4.5). */
  strictIndexing?: boolean;
  /** The application asked for Last-Modified headers (`rest: {lastModified: true}`). */
  lastModified?: boolean;
}

export interface CustomResource {
  kind: 'custom';
  path: string;
  name: string;
  /** The exported class (or object with static methods). */
  cls: any;
  lastModified?: boolean;
}

export interface ConflictResource { kind: 'conflict'; path: string }

export type ExportedResource = TableResource | CustomResource | GraphqlResource | ConflictResource;

function same(a: ExportedResource, b: ExportedResource): boolean {
  if (a.kind === 'table' && b.kind === 'table') return a.database === b.database && a.table === b.table;
  if (a.kind === 'custom' && b.kind === 'custom') return a.cls === b.cls;
  return false;
}

export class ResourceMap {
  private readonly byPath = new Map<string, ExportedResource>();

  add(r: ExportedResource): void {
    const prev = this.byPath.get(r.path);
    // several applications with `graphql: true` share one /graphql endpoint over all their tables
    if (prev?.kind === 'graphql' && r.kind === 'graphql') {
      this.byPath.set(r.path, { ...prev, tables: [...prev.tables, ...r.tables] });
      return;
    }
    // an exported subclass of a table class (`class Dog extends tables.Dog`) replaces that table's default REST
    // resource; re-exporting the generated class itself changes nothing
    if (prev?.kind === 'table' && r.kind === 'custom') {
      const ref = tableRefOf(r.cls);
      if (ref && ref.database === prev.database && ref.table === prev.table) {
        if (!isBaseTableClass(r.cls)) this.byPath.set(r.path, r);
        return;
      }
    }
    if (prev?.kind === 'custom' && r.kind === 'table') {
      const ref = tableRefOf(prev.cls);
      if (ref && ref.database === r.database && ref.table === r.table) return;
    }
    if (prev && !same(prev, r)) this.byPath.set(r.path, { kind: 'conflict', path: r.path });
    else this.byPath.set(r.path, r);
  }

  get size(): number {
    return this.byPath.size;
  }

  all(): ExportedResource[] {
    return [...this.byPath.values()];
  }

  /** The resource for a URL pathname and the rest of the path after its prefix ('' , '/', '/<id>'...). */
  match(pathname: string): { resource: ExportedResource; rest: string } | undefined {
    const trimmed = pathname.startsWith('/') ? pathname.slice(1) : pathname;
    // longest prefix of whole segments first: the whole path, then up to each '/' from the right (no arrays made)
    for (let end = trimmed.length; end > 0; end = trimmed.lastIndexOf('/', end - 1)) {
      const r = this.byPath.get(end === trimmed.length ? trimmed : trimmed.slice(0, end));
      if (r) return { resource: r, rest: trimmed.slice(end) };
    }
    const root = this.byPath.get('');
    if (root) return { resource: root, rest: '/' + trimmed };
    return undefined;
  }
}
