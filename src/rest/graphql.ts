/**
 * GraphQL querying (spec §4.10), enabled by `graphql: true` in an application's config.yaml and served at
 * `/graphql` (GET with `query`, POST JSON `{query, variables, operationName}` or an `application/graphql` body).
 * The schema is built from the exported tables: one query field per table (the type name) returning a list,
 * whose arguments are equality filters on its attributes; selection sets choose attributes, and relationship
 * properties resolve through the same joins as REST. Reads obey the same permissions as REST (table read, attribute
 * narrowing, read on related tables). Only queries: mutations and subscriptions are not part of Harper's 4.x
 * GraphQL either.
 */
import {
  GraphQLError, GraphQLList, GraphQLObjectType, GraphQLScalarType, GraphQLSchema, GraphQLString, GraphQLInt, GraphQLFloat,
  GraphQLBoolean, Kind, execute, parse, validate, type DocumentNode, type GraphQLFieldConfig, type GraphQLOutputType,
  type GraphQLInputType, type ValueNode, type GraphQLFieldConfigArgumentMap,
} from 'graphql';
import { WeftError, weftError, registry } from '../errors/index.js';
import { authenticateRequest, type User } from '../auth/index.js';
import { acceptEntries, mediaType, readBody } from '../http/index.js';
import { search, type Condition, type ConditionGroup, type LmdbStorage, type Rec, type Table } from '../storage/index.js';
import { authorizeRest, checkTableAccess, narrowRecord, readableSet } from './access.js';
import { related, relatedTable, relationsOf, type JoinEnv } from './joins.js';
import type { Exchange } from './handler.js';

/** One table a /graphql endpoint can query. */
export interface GraphqlTable { database: string; table: string; typeName: string }

export interface GraphqlResource {
  kind: 'graphql';
  path: string;
  tables: GraphqlTable[];
}

interface Ctx { user: User | null; storage: LmdbStorage; env: JoinEnv }

function literal(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.INT: return Number(ast.value);
    case Kind.FLOAT: return Number(ast.value);
    case Kind.STRING: case Kind.ENUM: return ast.value;
    case Kind.BOOLEAN: return ast.value;
    case Kind.NULL: return null;
    case Kind.LIST: return ast.values.map(literal);
    case Kind.OBJECT: return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
    default: return undefined;
  }
}

function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

/** Values are served as stored (a numeric ID stays a number), like the REST interface does. */
function passThrough(name: string, description: string): GraphQLScalarType {
  return new GraphQLScalarType({ name, description, serialize: jsonSafe, parseValue: (v) => v, parseLiteral: (ast) => literal(ast) });
}

function scalars() {
  const date = new GraphQLScalarType({
    name: 'Date', description: 'A date: ISO 8601 text or epoch milliseconds',
    serialize: (v) => (v instanceof Date ? v.toISOString() : typeof v === 'number' ? new Date(v).toISOString() : v),
    parseValue: (v) => (typeof v === 'string' || typeof v === 'number' ? new Date(v) : v),
    parseLiteral: (ast) => { const v = literal(ast); return typeof v === 'string' || typeof v === 'number' ? new Date(v) : v; },
  });
  return {
    ID: passThrough('ID', 'A primary key (string or number, as stored)'),
    String: GraphQLString, Int: GraphQLInt, Float: GraphQLFloat, Boolean: GraphQLBoolean,
    Long: passThrough('Long', 'A 64-bit integer'), BigInt: passThrough('BigInt', 'An integer of any size'),
    Date: date, Bytes: passThrough('Bytes', 'Binary data (base64)'), Blob: passThrough('Blob', 'Binary data (base64)'),
    Any: passThrough('Any', 'Any value'),
  } as Record<string, GraphQLScalarType>;
}

function errorMessage(err: unknown): string {
  if (err instanceof WeftError) return err.message;
  return registry.INTERNAL.message();
}

/** The GraphQL schema of a set of exported tables (those missing from storage are left out). */
export function buildGraphqlSchema(storage: LmdbStorage, refs: GraphqlTable[]): GraphQLSchema {
  const S = scalars();
  const types = new Map<string, GraphQLObjectType>();
  const byTable = new Map<string, string>();
  const open = (ref: GraphqlTable) => storage.database(ref.database)?.table(ref.table);
  const present = refs.filter((r) => open(r));
  for (const r of present) byTable.set(`${r.database}.${r.table}`, r.typeName);

  const scalarOf = (type: string | undefined, elements?: string): GraphQLOutputType & GraphQLInputType => {
    if (type === 'Array') return new GraphQLList(scalarOf(elements?.replace(/!$/, '')));
    return (type && S[type]) || S.Any!;
  };

  for (const ref of present) {
    const fields = (): Record<string, GraphQLFieldConfig<Rec, Ctx>> => {
      const table = open(ref)!;
      const out: Record<string, GraphQLFieldConfig<Rec, Ctx>> = {};
      for (const a of table.def.attributes) {
        // computed attributes are evaluated over the stored record
        out[a.attribute] = { type: scalarOf(a.type, a.elements), resolve: (rec) => (a.computed !== undefined ? table.valueOf(rec, a.attribute) : rec[a.attribute]) };
      }
      for (const rel of relationsOf(table)?.values() ?? []) {
        const targetType = types.get(byTable.get(`${rel.database}.${rel.table}`) ?? '');
        if (!targetType) continue;
        out[rel.name] = {
          type: rel.many ? new GraphQLList(targetType) : targetType,
          resolve: (rec, _args, ctx) => {
            const target = relatedTable(ctx.env, rel);
            const readable = readableSet(ctx.user, rel.database, target);
            return related(table, rel, target, rec, (r) => narrowRecord(r, readable)) ?? null;
          },
        };
      }
      return out;
    };
    types.set(ref.typeName, new GraphQLObjectType<Rec, Ctx>({ name: ref.typeName, fields }));
  }

  const query: Record<string, GraphQLFieldConfig<unknown, Ctx>> = {};
  for (const ref of present) {
    const table = open(ref)!;
    const args: GraphQLFieldConfigArgumentMap = {};
    // top-level arguments are equality filters; an array attribute matches when any element equals the value
    for (const a of table.def.attributes) args[a.attribute] = { type: a.type === 'Array' ? scalarOf(a.elements?.replace(/!$/, '')) : scalarOf(a.type) };
    query[ref.typeName] = {
      type: new GraphQLList(types.get(ref.typeName)!),
      args,
      resolve: (_root, filters: Record<string, unknown>, ctx) => {
        const t = open(ref);
        if (!t) throw weftError('TABLE_NOT_FOUND', ref.database, ref.table);
        const names = Object.keys(filters).filter((k) => filters[k] !== undefined);
        authorizeRest(ctx.user, ref.database, t, 'read', names);
        const conditions: Condition[] = names.map((attribute) => ({ attribute, comparator: 'equals', value: filters[attribute] }));
        const tree: Condition | ConditionGroup | undefined = conditions.length === 0 ? undefined
          : conditions.length === 1 ? conditions[0] : { operator: 'and', conditions };
        const readable = readableSet(ctx.user, ref.database, t);
        return [...search(t, tree)].map((r) => narrowRecord(r, readable));
      },
    };
  }
  if (!present.length) {
    // a schema needs at least one query field; with no exported table the endpoint still answers introspection
    query._empty = { type: GraphQLString, resolve: () => null };
  }
  return new GraphQLSchema({ query: new GraphQLObjectType<unknown, Ctx>({ name: 'Query', fields: query }) });
}

interface GraphqlRequest { query?: unknown; variables?: unknown; operationName?: unknown }

async function readRequest(x: Exchange): Promise<GraphqlRequest> {
  const method = x.req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    const params = new URLSearchParams(x.search);
    let variables: unknown;
    const v = params.get('variables');
    if (v) {
      try { variables = JSON.parse(v); } catch { throw new GraphQLRequestError('Variables are invalid JSON.'); }
    }
    return { query: params.get('query') ?? undefined, variables, operationName: params.get('operationName') ?? undefined };
  }
  const net = x.deps.config.operationsApi.network;
  const buf = await readBody(x.req, net.maxBodySize);
  const type = mediaType(x.req.headers['content-type']);
  if (type === 'application/graphql') return { query: buf.toString('utf8') };
  try { return JSON.parse(buf.toString('utf8') || 'null') ?? {}; } catch { throw new GraphQLRequestError('POST body sent invalid JSON.'); }
}

/** A request the GraphQL layer refuses before execution (always 400). */
class GraphQLRequestError extends Error {}

function accepts(accept: string | undefined): 'graphql' | 'json' | undefined {
  if (!accept) return 'json';
  let best: 'graphql' | 'json' | undefined;
  let bestQ = 0;
  for (const { type, q } of acceptEntries(accept)) {
    const f = type === 'application/graphql-response+json' ? 'graphql'
      : type === 'application/json' || type === '*/*' || type === 'application/*' ? 'json' : undefined;
    if (f && (q > bestQ || (q === bestQ && f === 'graphql'))) { best = f; bestQ = q; }
  }
  return best;
}

/** Serve one /graphql request. Errors always come back in GraphQL's `{errors: [{message}]}` shape. */
export async function handleGraphql(x: Exchange, r: GraphqlResource): Promise<void> {
  const { res, req, deps } = x;
  const mode = accepts(req.headers.accept);
  const contentType = mode === 'graphql' ? 'application/graphql-response+json; charset=utf-8' : 'application/json; charset=utf-8';
  const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? jsonSafe(v) : v));
    res.setHeader('Server-Timing', `hdb;dur=${(performance.now() - x.started).toFixed(2)}`);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
  if (!mode) return reply(406, { errors: [{ message: registry.NOT_ACCEPTABLE.message() }] });
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'POST' && method !== 'HEAD') {
    return reply(405, { errors: [{ message: `GraphQL only supports GET and POST requests, not ${method}` }] }, { Allow: 'GET, POST' });
  }
  let request: GraphqlRequest;
  try {
    request = await readRequest(x);
  } catch (err) {
    if (err instanceof GraphQLRequestError) return reply(400, { errors: [{ message: err.message }] });
    const status = err instanceof WeftError ? err.status : 500;
    return reply(status, { errors: [{ message: errorMessage(err) }] });
  }
  if (typeof request !== 'object' || request === null || typeof request.query !== 'string' || !request.query.trim()) {
    return reply(400, { errors: [{ message: 'Must provide query string.' }] });
  }
  if (request.variables !== undefined && request.variables !== null && (typeof request.variables !== 'object' || Array.isArray(request.variables))) {
    return reply(400, { errors: [{ message: 'Variables must be an object.' }] });
  }
  if (request.operationName !== undefined && request.operationName !== null && typeof request.operationName !== 'string') {
    return reply(400, { errors: [{ message: 'Operation name must be a string.' }] });
  }
  // an invalid query is a request error: 400 with the graphql-response type, 200 with plain JSON (GraphQL over HTTP)
  const invalid = mode === 'graphql' ? 400 : 200;
  let document: DocumentNode;
  try {
    document = parse(request.query, { maxTokens: 10_000 });
  } catch (err) {
    return reply(invalid, { errors: [(err as GraphQLError).toJSON?.() ?? { message: (err as Error).message }] });
  }
  let user: User | null;
  try {
    user = await authenticateRequest(req, { users: deps.users, config: deps.config, transport: deps.transport ?? 'http' });
  } catch (err) {
    return reply(err instanceof WeftError ? err.status : 500, { errors: [{ message: errorMessage(err) }] });
  }
  if (!user) return reply(401, { errors: [{ message: registry.MUST_LOGIN.message() }] }, { 'WWW-Authenticate': 'Basic' });
  const schema = buildGraphqlSchema(deps.storage, r.tables);
  const problems = validate(schema, document);
  if (problems.length) return reply(invalid, { errors: problems.map((p) => p.toJSON()) });
  const ctx: Ctx = { user, storage: deps.storage, env: { storage: deps.storage, checkRead: (db, t) => checkTableAccess(user, db, t, 'read') } };
  const result = await execute({
    schema, document, contextValue: ctx,
    variableValues: (request.variables ?? undefined) as Record<string, unknown> | undefined,
    operationName: (request.operationName ?? undefined) as string | undefined,
  });
  if (result.errors?.length) {
    for (const e of result.errors) {
      const orig = e.originalError;
      if (orig && !(orig instanceof WeftError) && !(orig instanceof GraphQLError)) deps.logger.error({ requestId: x.requestId, err: orig }, 'GraphQL resolver failed');
    }
  }
  const errors = result.errors?.map((e) => {
    const orig = e.originalError;
    const json = e.toJSON();
    return orig && !(orig instanceof GraphQLError) ? { ...json, message: errorMessage(orig) } : json;
  });
  // no data at all (e.g. a wrong operationName or bad variables) is a request error as well
  const status = result.data === undefined || result.data === null ? (errors?.length ? invalid : 200) : 200;
  if (result.data === undefined) return reply(status, { errors });
  return reply(status, errors?.length ? { data: result.data, errors } : { data: result.data });
}
