/**
 * The OpenAPI 3.0.3 description of the exported resources (spec §4.9), served as `GET /openapi` on the application
 * port and `GET /api/openapi/rest` on the operations port. Built from the live resource map on every request, so
 * it always matches what this thread serves. Tables answer every REST method; custom resources only those their
 * class implements. Super users only: the document names every exported table and attribute.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { weftError } from '../errors/index.js';
import { authenticateRequest, isSuperUser, type Transport, type UserStore } from '../auth/index.js';
import type { LmdbStorage, Table } from '../storage/index.js';
import type { WeftConfig } from '../config/index.js';
import type { CustomResource, ExportedResource, ResourceMap, TableResource } from './resources.js';
import { relationsOf } from './joins.js';

type Json = Record<string, unknown>;

const SCALAR_SCHEMAS: Record<string, Json> = {
  ID: { type: 'string' },
  String: { type: 'string' },
  Int: { type: 'integer', format: 'int32' },
  Long: { type: 'integer', format: 'int64' },
  BigInt: { type: 'integer' },
  Float: { type: 'number' },
  Boolean: { type: 'boolean' },
  Date: { type: 'string', format: 'date-time' },
  Bytes: { type: 'string', format: 'binary' },
  Blob: { type: 'string', format: 'binary' },
};

function typeSchema(type: string | undefined, elements: string | undefined, typeNames: Map<string, string>): Json {
  if (!type || type === 'Any') return {};
  if (type === 'Array') return { type: 'array', items: typeSchema(elements?.replace(/!$/, ''), undefined, typeNames) };
  const scalar = SCALAR_SCHEMAS[type];
  if (scalar) return { ...scalar };
  const ref = typeNames.get(type);
  return ref ? { $ref: `#/components/schemas/${ref}` } : { type: 'object' };
}

function tableSchema(table: Table, typeNames: Map<string, string>): Json {
  const properties: Json = {};
  const required: string[] = [];
  for (const a of table.def.attributes) {
    properties[a.attribute] = typeSchema(a.type, a.elements, typeNames);
    if (a.nullable === false && !a.is_primary_key) required.push(a.attribute);
  }
  // relationship properties are joins: readable through select(), never stored
  const rels = relationsOf(table);
  if (rels) {
    for (const rel of rels.values()) {
      const target = typeNames.get(`${rel.database}.${rel.table}`);
      const item = target ? { $ref: `#/components/schemas/${target}` } : { type: 'object' };
      properties[rel.name] = rel.many ? { type: 'array', items: item } : item;
    }
  }
  return required.length ? { type: 'object', properties, required } : { type: 'object', properties };
}

const errorResponses = {
  400: { description: 'Invalid request' },
  401: { description: 'Must login' },
  403: { description: 'Unauthorized access to resource' },
};

function jsonContent(schema: Json): Json {
  return { content: { 'application/json': { schema } } };
}

/** Which REST methods a resource answers: tables all of them, custom resources what the class implements. */
function methodsOf(r: TableResource | CustomResource): Set<string> {
  if (r.kind === 'table') return new Set(['get', 'put', 'patch', 'post', 'delete']);
  const proto = typeof r.cls === 'function' ? r.cls.prototype : r.cls;
  return new Set(['get', 'put', 'patch', 'post', 'delete'].filter((m) => typeof proto?.[m] === 'function'));
}

/**
 * The search part as parameters (spec §4.5): one per attribute (`attr=value` is the equals condition; FIQL
 * comparators such as `attr=gt=5` use the same name) plus the query functions. A custom resource's query string is
 * its own business, so it stays one opaque parameter.
 */
function queryParameters(table: Table | undefined, typeNames: Map<string, string>): Json[] {
  if (!table) return [{ name: 'query', in: 'query', required: false, schema: { type: 'string' }, description: 'Conditions and functions, e.g. `name=x&select(id,name)&limit(10)`' }];
  const params: Json[] = table.def.attributes.map((a) => {
    const schema = typeSchema(a.type === 'Array' ? a.elements?.replace(/!$/, '') : a.type, undefined, typeNames);
    return {
      name: a.attribute, in: 'query', required: false, schema: schema.$ref ? {} : schema,
      description: `Records whose ${a.attribute} equals the value${a.type === 'Array' ? ' (any element)' : ''}${a.indexed || a.is_primary_key ? ' (indexed)' : ''}; FIQL comparators such as \`${a.attribute}=gt=<value>\` also apply`,
    };
  });
  params.push(
    { name: 'select(<attributes>)', in: 'query', required: false, allowEmptyValue: true, schema: { type: 'string' }, description: 'Properties to return, e.g. `select(id,name)`' },
    { name: 'sort(<attributes>)', in: 'query', required: false, allowEmptyValue: true, schema: { type: 'string' }, description: 'Sort order, e.g. `sort(+name,-age)`' },
    { name: 'limit(<start>,<end>)', in: 'query', required: false, allowEmptyValue: true, schema: { type: 'string' }, description: '`limit(n)` returns the first n records, `limit(start,end)` records start to end' },
  );
  return params;
}

function resourcePaths(r: TableResource | CustomResource, schemaRef: Json | undefined, pk: string, properties: string[], query: Json[]): Record<string, Json> {
  const name = r.path;
  const tag = r.kind === 'table' ? r.typeName : r.name;
  const methods = methodsOf(r);
  const record = schemaRef ?? { type: 'object' };
  const base = name === '' ? '' : `/${name}`;
  const collection: Json = {};
  const one: Json = {};
  const pkParam = { name: pk, in: 'path', required: true, schema: { type: 'string' }, description: 'The primary key' };
  if (methods.has('get')) {
    collection.get = {
      tags: [tag], summary: `Search ${tag} records with the REST query language`,
      parameters: query,
      responses: { 200: { description: 'Matching records', ...jsonContent({ type: 'array', items: record }) }, ...errorResponses },
    };
    one.get = {
      tags: [tag], summary: `Get one ${tag} record`, parameters: [pkParam],
      responses: { 200: { description: 'The record', ...jsonContent(record) }, 304: { description: 'Not modified (If-None-Match)' }, 404: { description: 'Not found' }, ...errorResponses },
    };
  }
  if (methods.has('post')) {
    collection.post = {
      tags: [tag], summary: `Create a ${tag} record`, requestBody: { required: true, ...jsonContent(record) },
      responses: {
        201: {
          description: 'Created; the body is the new primary key',
          headers: { Location: { description: 'The primary key of the new record', schema: { type: 'string' } } },
          ...jsonContent({}),
        },
        ...errorResponses,
      },
    };
  }
  if (methods.has('delete')) {
    collection.delete = {
      tags: [tag], summary: `Delete the ${tag} records matching a query`,
      parameters: query.filter((p) => !String(p.name).startsWith('select(') && !String(p.name).startsWith('sort(')),
      responses: { 200: { description: 'Deleted', ...jsonContent({ type: 'boolean' }) }, ...errorResponses },
    };
    one.delete = {
      tags: [tag], summary: `Delete one ${tag} record`, parameters: [pkParam],
      responses: { 200: { description: 'Deleted', ...jsonContent({ type: 'boolean' }) }, ...errorResponses },
    };
  }
  if (methods.has('put')) {
    one.put = {
      tags: [tag], summary: `Create or replace a ${tag} record`, parameters: [pkParam], requestBody: { required: true, ...jsonContent(record) },
      responses: { 204: { description: 'Stored' }, ...errorResponses },
    };
  }
  if (methods.has('patch')) {
    one.patch = {
      tags: [tag], summary: `Update some properties of a ${tag} record`, parameters: [pkParam], requestBody: { required: true, ...jsonContent(record) },
      responses: { 204: { description: 'Updated' }, ...errorResponses },
    };
  }
  const out: Record<string, Json> = {};
  if (Object.keys(collection).length) out[`${base}/`] = collection;
  if (Object.keys(one).length) out[`${base}/{${pk}}`] = one;
  if (methods.has('get')) {
    out[`${base}/{${pk}}.{property}`] = {
      get: {
        tags: [tag], summary: `Get one property of a ${tag} record`,
        parameters: [pkParam, { name: 'property', in: 'path', required: true, schema: properties.length ? { type: 'string', enum: properties } : { type: 'string' } }],
        responses: { 200: { description: 'The property value', ...jsonContent({}) }, 404: { description: 'Not found' }, ...errorResponses },
      },
    };
  }
  return out;
}

/** The OpenAPI document for the resources of one thread. */
export function openApiDocument(resources: ResourceMap, storage: LmdbStorage, version: string): Json {
  const all = resources.all().filter((r): r is TableResource | CustomResource => r.kind === 'table' || r.kind === 'custom');
  const tablesOf = new Map<ExportedResource, Table>();
  const typeNames = new Map<string, string>();
  for (const r of all) {
    if (r.kind !== 'table') continue;
    const t = storage.database(r.database)?.table(r.table);
    if (!t) continue;
    tablesOf.set(r, t);
    typeNames.set(r.typeName, r.typeName);
    typeNames.set(`${r.database}.${r.table}`, r.typeName);
  }
  const schemas: Json = {};
  const paths: Json = {};
  for (const r of all.sort((a, b) => a.path.localeCompare(b.path))) {
    const t = tablesOf.get(r);
    if (r.kind === 'table' && !t) continue;
    let ref: Json | undefined;
    if (t && r.kind === 'table') {
      schemas[r.typeName] = tableSchema(t, typeNames);
      ref = { $ref: `#/components/schemas/${r.typeName}` };
    }
    Object.assign(paths, resourcePaths(r, ref, t?.primaryKey ?? 'id', t ? t.def.attributes.map((a) => a.attribute) : [], queryParameters(t, typeNames)));
  }
  return {
    openapi: '3.0.3',
    info: { title: 'HarperDB HTTP REST interface', version },
    paths,
    components: {
      schemas,
      securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' }, bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    security: [{ basicAuth: [] }, { bearerAuth: [] }],
  };
}

export interface OpenApiDeps {
  storage: LmdbStorage;
  users: UserStore;
  config: Readonly<WeftConfig>;
  resources: ResourceMap;
  version: string;
  transport?: Transport;
}

/**
 * `GET` of the document as its own handler (the operations port mounts it at /api/openapi/rest). Errors are in
 * the operations API's shape there: `{"error": message}`.
 */
export function createOpenApiHandler(deps: OpenApiDeps) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Server', 'HarperDB');
    let status = 200;
    let body: unknown;
    try {
      const user = await authenticateRequest(req, { users: deps.users, config: deps.config, transport: deps.transport ?? 'http' });
      if (!user) throw weftError('MUST_LOGIN');
      if (!isSuperUser(user)) throw weftError('OPENAPI_FORBIDDEN');
      body = openApiDocument(deps.resources, deps.storage, deps.version);
    } catch (err) {
      const e = err as { status?: number; message?: string };
      status = typeof e.status === 'number' ? e.status : 500;
      body = { error: status === 500 ? 'Internal server error' : e.message };
      if (status === 401) res.setHeader('WWW-Authenticate', 'Basic');
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
  };
}
