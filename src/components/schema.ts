/**
 * schema.graphql -> table specifications (spec §5.1). Parsing only: no storage access here, so the main thread
 * (which ensures tables) and the workers (which only map resources) read a schema the same way.
 */
import { computedSyntaxError } from '../storage/index.js';
// graphql's language modules only: its package entry loads the whole library (validation, execution), ~60 ms per
// thread at start-up for a parse of the schema file
import { parse } from 'graphql/language/parser.js';
import { Kind } from 'graphql/language/kinds.js';
import type { ConstDirectiveNode, TypeNode, ObjectTypeDefinitionNode, ConstValueNode } from 'graphql';

export const SCALARS = new Set(['ID', 'String', 'Int', 'Long', 'Float', 'BigInt', 'Boolean', 'Date', 'Bytes', 'Blob', 'Any']);

export interface AttributeSpec {
  name: string;
  /** Base type name ('Int', 'Array', an object type name, or undefined for untyped). */
  type?: string;
  /** Element type of an Array ('Int', 'Int!', ...). */
  elements?: string;
  nullable: boolean;
  indexed: boolean;
  primaryKey: boolean;
  createdTime: boolean;
  updatedTime: boolean;
  /** @expiresAt: holds the record's expiry time (spec §3.8). */
  expiresAt?: boolean;
  /** @computed(from, version): derived, not stored ('' from = supplied with setComputedAttribute). */
  computed?: { from: string; version?: number };
  /** @relationship(from | to): a join to the table of type `target`; never stored (spec §4.6). */
  relationship?: RelationshipSpec;
}

export interface RelationshipSpec {
  /** Type name of the related table. */
  target: string;
  /** Local attribute holding the related key(s). */
  from?: string;
  /** Attribute of the related table holding this table's key (or the `from` value). */
  to?: string;
  /** Declared as a list. */
  many: boolean;
}

export interface ExportSpec {
  name: string;
  rest: boolean;
  mqtt: boolean;
  ws: boolean;
  sse: boolean;
}

export interface TableSpec {
  typeName: string;
  table: string;
  database: string;
  expiration?: number;
  eviction?: number;
  scanInterval?: number;
  audit?: boolean;
  sealed: boolean;
  /** @splitSegments: `/T/a/b` addresses the multi-part id `[a, b]` (spec §4.2). */
  splitSegments?: boolean;
  primaryKey: string;
  attributes: AttributeSpec[];
  export?: ExportSpec;
  file: string;
}

export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

function constValue(v: ConstValueNode): unknown {
  switch (v.kind) {
    case Kind.STRING: case Kind.ENUM: return v.value;
    case Kind.INT: return Number(v.value);
    case Kind.FLOAT: return Number(v.value);
    case Kind.BOOLEAN: return v.value;
    case Kind.NULL: return null;
    case Kind.LIST: return v.values.map(constValue);
    case Kind.OBJECT: return Object.fromEntries(v.fields.map((f) => [f.name.value, constValue(f.value)]));
  }
}

function args(d: ConstDirectiveNode): Record<string, unknown> {
  return Object.fromEntries((d.arguments ?? []).map((a) => [a.name.value, constValue(a.value)]));
}

function directive(list: readonly ConstDirectiveNode[] | undefined, name: string): ConstDirectiveNode | undefined {
  return list?.find((d) => d.name.value === name);
}

/** `Int`, `[Int]`, `Int!`... as the storage type fields. */
function typeOf(node: TypeNode): { type: string; elements?: string; nullable: boolean; named: string[] } {
  let nullable = true;
  let t = node;
  if (t.kind === Kind.NON_NULL_TYPE) { nullable = false; t = t.type; }
  if (t.kind === Kind.LIST_TYPE) {
    const inner = t.type;
    const innerNamed = inner.kind === Kind.NON_NULL_TYPE ? inner.type : inner;
    if (innerNamed.kind !== Kind.NAMED_TYPE) return { type: 'Array', nullable, named: [] };
    const name = innerNamed.name.value;
    return { type: 'Array', elements: name + (inner.kind === Kind.NON_NULL_TYPE ? '!' : ''), nullable, named: [name] };
  }
  return { type: t.name.value, nullable, named: [t.name.value] };
}

function boolArg(a: Record<string, unknown>, name: string, dflt: boolean): boolean {
  return typeof a[name] === 'boolean' ? (a[name] as boolean) : dflt;
}

/** Parse one schema file. `warn` receives Harper-style warnings (unknown types, duplicate primary keys). */
export function parseSchema(source: string, file: string, warn: (msg: string) => void = () => {}): TableSpec[] {
  let doc;
  try {
    doc = parse(source, { noLocation: false });
  } catch (e) {
    throw new SchemaError(`Error parsing ${file}: ${(e as Error).message}`);
  }
  const objectTypes = new Set<string>();
  for (const def of doc.definitions) if (def.kind === Kind.OBJECT_TYPE_DEFINITION) objectTypes.add(def.name.value);
  const specs: TableSpec[] = [];
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const spec = tableSpec(def, file, objectTypes, warn);
    if (spec) specs.push(spec);
  }
  return specs;
}

function tableSpec(def: ObjectTypeDefinitionNode, file: string, objectTypes: Set<string>, warn: (msg: string) => void): TableSpec | undefined {
  const tableDir = directive(def.directives, 'table');
  if (!tableDir) return undefined;
  const t = args(tableDir);
  const typeName = def.name.value;
  const spec: TableSpec = {
    typeName,
    table: typeof t.table === 'string' && t.table ? t.table : typeName,
    database: typeof t.database === 'string' && t.database ? t.database : typeof t.schema === 'string' && t.schema ? t.schema : 'data',
    sealed: !!directive(def.directives, 'sealed'),
    primaryKey: '',
    attributes: [],
    file,
  };
  for (const name of ['expiration', 'eviction', 'scanInterval'] as const) {
    const v = t[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new SchemaError(`@table(${name}) of ${typeName} must be a number of seconds (>= 0) in ${file}`);
    if (v > 0) spec[name] = v;
  }
  if (typeof t.audit === 'boolean') spec.audit = t.audit;
  if (directive(def.directives, 'splitSegments')) spec.splitSegments = true;
  const exp = directive(def.directives, 'export');
  if (exp) {
    const e = args(exp);
    spec.export = {
      name: typeof e.name === 'string' ? e.name : typeName,
      rest: boolArg(e, 'rest', true), mqtt: boolArg(e, 'mqtt', true), ws: boolArg(e, 'ws', true), sse: boolArg(e, 'sse', true),
    };
  }
  for (const field of def.fields ?? []) {
    const dirs = field.directives;
    const name = field.name.value;
    const ty = typeOf(field.type);
    const rel = directive(dirs, 'relationship');
    if (rel) {
      const r = args(rel);
      const from = typeof r.from === 'string' && r.from ? r.from : undefined;
      const to = typeof r.to === 'string' && r.to ? r.to : undefined;
      const target = ty.type === 'Array' ? ty.elements?.replace(/!$/, '') : ty.type;
      if ((!from && !to) || !target || !objectTypes.has(target)) {
        warn(`@relationship on ${typeName}.${name} needs from or to and a table type; ignoring it in ${file}`);
        continue;
      }
      spec.attributes.push({
        name, nullable: true, indexed: false, primaryKey: false, createdTime: false, updatedTime: false,
        relationship: { target, from, to, many: ty.type === 'Array' },
      });
      continue;
    }
    for (const n of ty.named) {
      if (!SCALARS.has(n) && !objectTypes.has(n)) {
        const loc = field.type.loc?.startToken;
        warn(`The type ${n} is unknown at line ${loc?.line ?? 0}, column ${loc?.column ?? 0}, in ${file}`);
        if (ty.type === n) ty.type = undefined as unknown as string;
        else ty.elements = undefined;
      }
    }
    const attr: AttributeSpec = {
      name,
      type: ty.type === 'Any' ? undefined : ty.type,
      elements: ty.elements,
      nullable: ty.nullable,
      indexed: !!directive(dirs, 'indexed'),
      primaryKey: !!directive(dirs, 'primaryKey'),
      createdTime: !!directive(dirs, 'createdTime'),
      updatedTime: !!directive(dirs, 'updatedTime'),
    };
    if (directive(dirs, 'expiresAt')) {
      if (!attr.indexed) throw new SchemaError(`@expiresAt on ${typeName}.${name} must also be @indexed in ${file}`);
      if (spec.attributes.some((a) => a.expiresAt)) throw new SchemaError(`Type ${typeName} has more than one @expiresAt attribute in ${file}`);
      attr.expiresAt = true;
    }
    const comp = directive(dirs, 'computed');
    if (comp) {
      const c = args(comp);
      attr.computed = { from: typeof c.from === 'string' ? c.from : '' };
      if (typeof c.version === 'number') attr.computed.version = c.version;
      const bad = attr.computed.from ? computedSyntaxError(attr.computed.from) : undefined;
      if (bad) warn(`@computed(from) of ${typeName}.${name} is not a valid expression (${bad}) in ${file}`);
    }
    if (ty.type === 'Any') attr.type = 'Any';
    if (attr.primaryKey) {
      if (spec.primaryKey) { warn(`Type ${typeName} has more than one @primaryKey; ${name} is ignored as a primary key`); attr.primaryKey = false; }
      else spec.primaryKey = name;
    }
    spec.attributes.push(attr);
  }
  if (!spec.primaryKey) {
    // A table without a declared key (e.g. a pure MQTT topic table) is keyed by an untyped `id`.
    spec.primaryKey = 'id';
    const id = spec.attributes.find((a) => a.name === 'id');
    if (id) id.primaryKey = true;
    else spec.attributes.unshift({ name: 'id', nullable: true, indexed: true, primaryKey: true, createdTime: false, updatedTime: false });
  }
  return spec;
}
