/**
 * rest: the REST interface on the application HTTP port (spec §4): exported tables and custom resources, the URL
 * query language, content negotiation, and table-level access checks. It reads and writes only through
 * storage's door and never creates tables (components/ ensures them on the main thread).
 */
export { createRestHandler, type RestDeps } from './handler.js';
export { ResourceMap, type ExportedResource, type TableResource, type CustomResource } from './resources.js';
export { parseQuery, type ParsedQuery, type QueryNode, type QueryCondition } from './query-parser.js';
export { tableQuery } from './query.js';
export { checkTableAccess, type TableAction } from './access.js';
export { Resource, RequestTarget, type ResourceContext } from './resource.js';
export { tables, databases, setTables, type TableRef } from './tables.js';
export { transaction, Transaction } from './transaction.js';
export { openApiDocument, createOpenApiHandler, type OpenApiDeps } from './openapi.js';
export type { GraphqlResource, GraphqlTable } from './graphql.js';
export { createStaticHandler, contentTypeOf } from './static.js';
export { createFastifyRoutes, type RouteApplication, type FastifyRoutesDeps } from './fastify-routes.js';
